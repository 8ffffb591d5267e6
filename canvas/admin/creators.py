"""Admin: the platform's creator directory and its categories (platform rows,
no tenant), and the accounts' follows (read-only: accounts follow through the
app, within their plan's creator limit)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Count, Q

from canvas.models import AccountFollowedCreator, Creator, CreatorCategory
from canvas.services.creators import creator_clean


@admin.register(CreatorCategory)
class CreatorCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "sort_order", "is_active", "creators_count", "created_at"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "description"]
    ordering = ["sort_order", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(creators_total=Count("creators"))

    @admin.display(description="Creators", ordering="creators_total")
    def creators_count(self, obj) -> int:
        return obj.creators_total


@admin.register(Creator)
class CreatorAdmin(admin.ModelAdmin):
    list_display = [
        "username", "platform", "display_name", "follower_count", "category", "is_verified", "is_active",
        "followers_on_platform", "last_scraped_at",
    ]  # fmt: skip
    list_filter = ["platform", "is_verified", "is_active", "category"]
    search_fields = ["username", "display_name", "profile_url"]
    list_select_related = ["category"]
    readonly_fields = ["last_scraped_at", "created_at", "updated_at"]
    ordering = ["platform", "username"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a typed "tiktok.com/@x" is https

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(follows_total=Count("follows", filter=Q(follows__is_active=True)))

    @admin.display(description="Accounts following", ordering="follows_total")
    def followers_on_platform(self, obj) -> int:
        return obj.follows_total

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class CreatorForm(form):
            def clean(self):
                return creator_clean(super().clean())

        return CreatorForm


@admin.register(AccountFollowedCreator)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["creator", "account", "followed_by", "followed_at", "is_active"]
    list_filter = ["is_active", "creator__platform"]
    search_fields = ["creator__username", "account__name"]
    list_select_related = ["creator", "account", "followed_by"]
    readonly_fields = ["account", "creator", "followed_by", "followed_at", "is_active"]

    def has_add_permission(self, request):
        return False
