"""Operator back office. Admin requests run with row-level security lifted
(see TenantMiddleware); every change is recorded in Django's LogEntry."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from .admin_flags import AppSettingAdminMixin
from .models import Account, ApiKey, AppSetting, Invitation, Membership, User, UserPreferences, UserProfile


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-created_at"]
    list_display = [
        "email", "username", "full_name", "role", "is_active", "login_provider", "last_active_at", "created_at",
    ]  # fmt: skip
    list_filter = ["role", "is_active", "login_provider", "locale"]
    search_fields = ["email", "username", "full_name", "business_name"]
    readonly_fields = ["created_at", "updated_at", "last_login", "last_active_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "username", "avatar_url", "locale", "business_name"]}),
        ("Platform", {"fields": ["role", "is_active", "is_superuser", "groups", "user_permissions"]}),
        ("Sign-in", {"fields": ["login_provider", "provider_user_id", "last_login", "last_active_at"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2", "role"]})]
    filter_horizontal = ["groups", "user_permissions"]
    actions = ["ban_users", "unban_users"]

    @admin.action(description="Ban (deactivate) selected users")
    def ban_users(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=False)} users banned.")

    @admin.action(description="Reactivate selected users")
    def unban_users(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=True)} users reactivated.")


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "plan_type",
        "subscription_status",
        "member_count",
        "user_limit",
        "is_personal",
        "created_at",
    ]
    list_filter = ["plan_type", "subscription_status", "is_personal"]
    search_fields = ["name", "billing_email", "id"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(ordering="_members", description="members")
    def member_count(self, obj):
        return obj._members


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "account__name"]
    list_select_related = ["user", "account"]
    autocomplete_fields = ["user", "account"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "account", "role", "status", "invited_by", "expires_at", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "account__name"]
    list_select_related = ["account", "invited_by"]
    readonly_fields = ["token_hash", "accepted_by", "accepted_at", "created_at"]
    autocomplete_fields = ["account", "invited_by"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "account", "role", "created_by", "last_used_at", "revoked_at", "created_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "account__name", "created_by__email"]
    list_select_related = ["account", "created_by"]
    readonly_fields = ["prefix", "key_hash", "last_used_at", "created_at"]
    autocomplete_fields = ["account", "created_by"]

    def has_add_permission(self, request):
        return False  # keys are created by account admins, who see the secret once


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "brand_name", "updated_at"]
    search_fields = ["user__email", "brand_name"]
    autocomplete_fields = ["user"]


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "theme", "timezone", "email_notifications"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]


@admin.register(AppSetting)
class AppSettingAdmin(AppSettingAdminMixin, admin.ModelAdmin):
    list_display = ["key", "description", "updated_at"]
    search_fields = ["key", "description"]
