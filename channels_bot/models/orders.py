from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel

# The allowed moves of seed 004's `order_status`; CANCELLED from anything but SHIPPED.
TRANSITIONS: dict[str, set[str]] = {
    "PENDING": {"CONFIRMED", "CANCELLED"},
    "CONFIRMED": {"PROCESSING", "CANCELLED"},
    "PROCESSING": {"SHIPPED", "CANCELLED"},
    "SHIPPED": set(),
    "CANCELLED": set(),
}


class Order(TenantModel):
    """Seed 004 `Orders`. `account` is seed 004's denormalised `user_id`; the total
    is computed from the items by the service, never typed."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending")
        CONFIRMED = "CONFIRMED", _("Confirmed")
        PROCESSING = "PROCESSING", _("Processing")
        SHIPPED = "SHIPPED", _("Shipped")
        CANCELLED = "CANCELLED", _("Cancelled")

    customer = models.ForeignKey("channels_bot.Customer", on_delete=models.PROTECT, related_name="orders")
    channel = models.ForeignKey("channels_bot.ConnectedChannel", on_delete=models.PROTECT, related_name="orders")
    conversation = models.ForeignKey(
        "channels_bot.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    order_status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    shipping_address = models.JSONField(default=dict, blank=True)
    billing_address = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="channels_bot_order_list")]
        constraints = [models.CheckConstraint(condition=models.Q(total_amount__gte=0), name="channels_bot_order_total")]

    def __str__(self) -> str:
        return f"Order {str(self.id)[:8]} ({self.order_status})"

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.order_status]


class OrderItem(TenantModel):
    """Seed 004 `OrderItems`: price and currency copied from the product when ordered."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("channels_bot.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    price_at_purchase = models.DecimalField(max_digits=12, decimal_places=2)
    currency_at_purchase = models.CharField(max_length=3)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="channels_bot_item_quantity")]


class OrderStatusChange(TenantModel):
    """Who moved an order from one status to another, and when (the order's history)."""

    class Actor(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        BOT = "bot", _("Bot")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor_kind = models.CharField(max_length=10, choices=Actor.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
