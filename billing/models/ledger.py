from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.tenancy.models import TenantModel

from .fields import credit_field, money_field


class Wallet(TenantModel):
    """An account's credits (seed 000 `wallets`). Only billing.services.ledger writes it."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="wallet")
    balance = credit_field()
    # Held by open reservations: spendable = balance - reserved.
    reserved = credit_field()
    lifetime_credits = credit_field(help_text=_("Every credit ever bought, granted or given (seed 001)."))
    tier = models.CharField(max_length=30, default="free")
    # Copied from the enabled threshold top-up rule, so a debit learns in the same
    # statement whether it crossed it (no extra query on the hot path).
    auto_top_up_below = credit_field(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="billing_wallet_balance_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="billing_wallet_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("balance")), name="billing_wallet_reserved_within_balance"
            ),
        ]

    def __str__(self) -> str:
        return f"wallet of {self.account_id}: {self.balance}"

    @property
    def available(self):
        return self.balance - self.reserved


class CreditTransaction(TenantModel):
    """One row per balance change; append-only (a trigger refuses UPDATE and DELETE)."""

    class Type(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")  # AIMix "charge"
        USE = "use", _("Use")
        CHAT_BURN = "chat_burn", _("Chat burn")
        REFUND = "refund", _("Refund")
        BONUS = "bonus", _("Bonus")
        FINE = "fine", _("Fine")
        GRANT = "grant", _("Plan grant")
        ADJUSTMENT = "adjustment", _("Operator adjustment")
        # Marketplace (seed 002 component_library): the buyer's charge, the seller's
        # earning (price minus the platform fee), and its reversal on a refund.
        PURCHASE = "purchase", _("Marketplace purchase")
        SALE = "sale", _("Marketplace sale")
        SALE_REVERSAL = "sale_reversal", _("Marketplace sale refunded")

    CREDIT_TYPES = (Type.TOP_UP, Type.REFUND, Type.BONUS, Type.GRANT, Type.SALE)

    # Indexed by (account, created_at) below; a lone account index would only cost writes.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    DEBIT_TYPES = (Type.USE, Type.CHAT_BURN, Type.FINE, Type.PURCHASE)

    amount = credit_field(help_text=_("Signed: negative spends, positive adds."))
    type = models.CharField(max_length=20, choices=Type.choices)
    balance_after = credit_field()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    reference_type = models.CharField(max_length=50, blank=True, help_text=_("What it paid for, e.g. chat_message."))
    reference_id = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    payment_method = models.CharField(max_length=50, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    provider_payment_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 (unique when set)
    amount_paid = money_field(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 (absent, not empty)
    refund_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Every index here is maintained by every debit: partial indexes skip the
        # rows (nearly all) that have no payment id or refund link.
        indexes = [
            models.Index(fields=["account", "-created_at"], name="billing_tx_account_time"),
            models.Index(fields=["refund_of"], condition=Q(refund_of__isnull=False), name="billing_tx_refund_of"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_payment_id"],
                condition=Q(provider_payment_id__isnull=False),
                name="billing_tx_provider_payment_once",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="billing_tx_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="billing_tx_balance_after_not_negative"),
            models.CheckConstraint(
                condition=~Q(type__in=["top_up", "refund", "bonus", "grant"]) | Q(amount__gt=0),
                name="billing_tx_credit_types_positive",
            ),
            models.CheckConstraint(
                condition=~Q(type__in=["use", "chat_burn", "fine"]) | Q(amount__lt=0),
                name="billing_tx_debit_types_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} ({self.account_id})"


class Reservation(TenantModel):
    """Credits held for work whose cost is known only at the end (streams, media)."""

    class Status(models.TextChoices):
        HELD = "held", _("Held")
        SETTLED = "settled", _("Settled")
        RELEASED = "released", _("Released")
        EXPIRED = "expired", _("Expired")

    amount = credit_field()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    type = models.CharField(max_length=20, choices=CreditTransaction.Type.choices, default=CreditTransaction.Type.USE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reference_type = models.CharField(max_length=50, blank=True)
    reference_id = models.CharField(max_length=64, blank=True)
    transaction = models.OneToOneField(
        CreditTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="reservation"
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"]), models.Index(fields=["account", "status"])]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="billing_reservation_amount_positive")]

    def __str__(self) -> str:
        return f"reservation {self.amount} {self.status}"


class IdempotencyRecord(TenantModel):
    """The first outcome of a request carrying an idempotency key (Stripe semantics)."""

    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of the operation and its parameters."))
    transaction = models.ForeignKey(CreditTransaction, on_delete=models.CASCADE, null=True, related_name="+")
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, null=True, related_name="+")
    payment = models.ForeignKey("billing.Payment", on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="billing_idempotency_unique_key")]


class AuditLog(TenantModel):
    """Written only by database triggers on wallets and the ledger (seed 000 audit logs)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    table_name = models.CharField(max_length=63)
    operation = models.CharField(max_length=10)
    row_id = models.CharField(max_length=64)
    old_row = models.JSONField(null=True)
    new_row = models.JSONField(null=True)
    db_user = models.CharField(max_length=63)
    app_user_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at"])]
