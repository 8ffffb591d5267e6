from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel

from .fields import credit_field, money_field
from .ledger import CreditTransaction


class CreditPack(models.Model):
    """What can be bought (platform-owned)."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    credits = credit_field()
    price = money_field()
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "price"]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0) & Q(price__gt=0), name="billing_pack_positive")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credits} credits)"


class Payment(TenantModel):
    """A purchase of credits through a payment provider."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    class Kind(models.TextChoices):
        CHECKOUT = "checkout", _("Checkout")
        AUTO_TOP_UP = "auto_top_up", _("Automatic top-up")
        SUBSCRIPTION = "subscription", _("Plan subscription")

    pack = models.ForeignKey(CreditPack, on_delete=models.PROTECT, null=True, blank=True)
    # A plan's subscription checkout: credits come with its paid invoices, not with the payment.
    plan = models.ForeignKey("billing.Plan", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CHECKOUT)
    credits = credit_field()
    amount = money_field()
    currency = models.CharField(max_length=3, default="USD")
    provider = models.CharField(max_length=30)
    provider_ref = models.CharField(max_length=255, null=True, blank=True, unique=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    transaction = models.OneToOneField(CreditTransaction, on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"payment {self.amount} {self.currency} ({self.status})"


class WebhookEvent(models.Model):
    """Every provider event received once; a redelivery is recognised by its id.

    Platform-owned: the account is only known after the event is verified and read.
    """

    provider = models.CharField(max_length=30)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    # Not a tenant row (no `account` foreign key): just which account it turned out to concern.
    account_ref = models.UUIDField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="billing_webhook_once")]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


class TopUpRule(TenantModel):
    """Automatic top-ups, as Lago does them: below a threshold, or on a schedule."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("When the balance falls below")
        RECURRING = "recurring", _("Every interval")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    pack = models.ForeignKey(CreditPack, on_delete=models.PROTECT)
    threshold = credit_field(null=True, blank=True)
    interval_days = models.PositiveIntegerField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    payment_method_ref = models.CharField(max_length=255, blank=True, help_text=_("Saved card at the provider."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind"], name="billing_topup_one_rule_per_kind"),
            models.CheckConstraint(
                condition=(Q(kind="threshold") & Q(threshold__gt=0)) | (Q(kind="recurring") & Q(interval_days__gt=0)),
                name="billing_topup_rule_complete",
            ),
        ]
        indexes = [models.Index(fields=["kind", "enabled", "next_run_at"])]


class PaymentCustomer(TenantModel):
    """The account's customer and saved card at the provider, for automatic top-ups.

    Filled from the provider's event when a checkout completes (the card is saved
    for off-session use then); a later checkout replaces the card.
    """

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=30)
    customer_ref = models.CharField(max_length=255)
    payment_method_ref = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=30, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        card = f"{self.card_brand} •••• {self.card_last4}" if self.card_last4 else self.payment_method_ref or "no card"
        return f"{self.provider} {self.customer_ref} ({card})"

    @property
    def charge_ref(self) -> str:
        """What PaymentProvider.charge_saved takes: "customer/method", or "" without a card."""
        return f"{self.customer_ref}/{self.payment_method_ref}" if self.payment_method_ref else ""
