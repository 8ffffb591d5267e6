"""Admin: the catalog (products) and orders.

Admin requests run with row-level security lifted (TenantMiddleware). Product
edits go through the catalog services, so the admin refuses what the API
refuses; an order's status changes only through `order_transition` (one admin
action per status), which records the operator, publishes the change and tells
the customer. Totals and prices are read-only: they are computed, never typed.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from aiplatform.errors import ServiceError
from channels_bot.models import Order, OrderItem, OrderStatusChange, Product
from channels_bot.models.orders import TRANSITIONS
from channels_bot.services.orders import money_text, order_number, order_transition
from channels_bot.services.products import product_clean

_PRODUCT_FIELDS = ["name", "description", "price", "currency", "sku", "image_url", "is_available"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "sku", "price", "currency", "is_available", "updated_at"]
    list_filter = ["is_available", "currency"]
    search_fields = ["name", "sku", "description", "account__name"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["account", *_PRODUCT_FIELDS, "created_at", "updated_at"]
    ordering = ["account", "name"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class CatalogForm(form):
            def clean(self):
                data = super().clean()
                values, errors = product_clean({k: data.get(k) for k in _PRODUCT_FIELDS if k in data})
                for name, problems in errors.items():
                    if name in self.fields:
                        self.add_error(name, problems)
                account = data.get("account") or getattr(self.instance, "account", None)
                sku = values.get("sku", "")
                if sku and account is not None:
                    taken = Product.objects.filter(account=account, sku=sku).exclude(pk=self.instance.pk).exists()
                    if taken:
                        self.add_error("sku", gettext("Another product of this account has this SKU."))
                for name, value in values.items():
                    data[name] = value
                return data

        return CatalogForm

    def delete_model(self, request, obj):
        try:
            super().delete_model(request, obj)
        except Exception as exc:  # ordered products are protected: keep them, unavailable
            from django.db.models import ProtectedError

            if not isinstance(exc, ProtectedError):
                raise
            Product.objects.filter(pk=obj.pk).update(is_available=False)
            self.message_user(request, f"“{obj.name}” is part of orders: marked unavailable instead.", messages.WARNING)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ["product", "quantity", "price_at_purchase", "currency_at_purchase"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OrderStatusChangeInline(admin.TabularInline):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "actor_kind", "actor", "note"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


def _transition_action(status: str):
    def action(modeladmin, request, queryset):
        moved, refused = 0, []
        for order in queryset:
            try:
                order_transition(
                    order=order, to_status=status, actor_kind=OrderStatusChange.Actor.SYSTEM, actor=request.user,
                    note=f"by operator {request.user.email} in the admin",
                )  # fmt: skip
                moved += 1
            except (ServiceError, ValidationError) as exc:
                refused.append(f"{order_number(order)}: {getattr(exc, 'message', exc)}")
        if moved:
            modeladmin.message_user(request, f"{moved} order(s) moved to {status}.", messages.SUCCESS)
        for line in refused[:20]:
            modeladmin.message_user(request, line, messages.ERROR)

    action.__name__ = f"move_to_{status.lower()}"
    return admin.action(description=f"Move selected orders to {status}")(action)


_TARGETS = sorted({s for moves in TRANSITIONS.values() for s in moves})


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "account", "customer", "channel", "order_status", "total", "created_at"]
    list_filter = ["order_status", "currency", "channel__platform_type"]
    search_fields = ["id", "customer__full_name", "customer__platform_customer_id", "account__name"]
    list_select_related = ["account", "customer", "channel"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, OrderStatusChangeInline]
    readonly_fields = ["number", "account", "customer", "channel", "conversation", "order_status", "total",
                       "total_amount", "currency", "created_at", "updated_at"]  # fmt: skip
    fields = ["number", "account", "customer", "channel", "conversation", "order_status", "total", "total_amount",
              "currency", "shipping_address", "billing_address", "created_at", "updated_at"]  # fmt: skip
    actions = [_transition_action(s) for s in _TARGETS]

    def has_add_permission(self, request):
        return False  # orders are placed in conversations or through the API (totals computed)

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the history stays

    @admin.display(description="Number")
    def number(self, obj):
        return order_number(obj) if obj and obj.pk else "—"

    @admin.display(description="Total", ordering="total_amount")
    def total(self, obj):
        return money_text(obj.total_amount, obj.currency)
