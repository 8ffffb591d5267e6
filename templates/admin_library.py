"""Marketplace moderation for operators: unlist / relist shared components,
refund purchases (buyer gets the price back, the seller's earning is taken
back, one transaction; see templates.services.library)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from aiplatform.errors import ServiceError

from .models.library import LibraryComponent, LibraryPurchase
from .services.library import library_purchase_refund, library_unlist


@admin.register(LibraryComponent)
class LibraryComponentAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "component_type", "category", "is_public", "is_marketplace_item", "is_listed",
                    "price", "downloads", "likes", "created_at"]  # fmt: skip
    list_filter = ["is_listed", "is_marketplace_item", "is_public", "component_type"]
    search_fields = ["name", "description", "category"]
    readonly_fields = ["account", "created_by", "downloads", "likes", "source_component_id", "created_at", "updated_at"]
    exclude = ["search_vector"]
    actions = ["unlist", "relist"]

    @admin.action(description=_("Unlist: hide from other accounts"))
    def unlist(self, request, queryset):
        for row in queryset:
            library_unlist(component_id=row.pk, operator=request.user)
        self.message_user(request, _("%(n)d component(s) unlisted.") % {"n": queryset.count()})

    @admin.action(description=_("Relist: show to other accounts again"))
    def relist(self, request, queryset):
        for row in queryset:
            library_unlist(component_id=row.pk, operator=request.user, listed=True)
        self.message_user(request, _("%(n)d component(s) listed again.") % {"n": queryset.count()})


@admin.register(LibraryPurchase)
class LibraryPurchaseAdmin(admin.ModelAdmin):
    list_display = ["component", "account", "seller_account_id", "price", "platform_fee", "status", "created_at",
                    "refunded_at"]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["component__name", "idempotency_key"]
    readonly_fields = [f.name for f in LibraryPurchase._meta.fields]
    actions = ["refund"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Refund: give the buyer the price back and take back the seller's earning"))
    def refund(self, request, queryset):
        done = 0
        for purchase in queryset:
            try:
                library_purchase_refund(purchase_id=purchase.pk, operator=request.user,
                                        reason=f"Operator refund in the admin by {request.user.email}")  # fmt: skip
                done += 1
            except ServiceError as exc:
                self.message_user(request, f"{purchase.component}: {exc.message}", level=messages.ERROR)
        if done:
            self.message_user(request, _("%(n)d purchase(s) refunded.") % {"n": done})
