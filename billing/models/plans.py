from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.tenancy.models import TenantModel

from .fields import credit_field, money_field


class Plan(models.Model):
    """A subscription tier (seed 002 tiers, seed 003 plan types and limits, seed 001 tiers). Platform-owned."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    plan_type = models.CharField(max_length=20, choices=Account.PlanType.choices, default=Account.PlanType.INDIVIDUAL)
    monthly_price = money_field(default=0)
    currency = models.CharField(max_length=3, default="USD")
    monthly_credits = credit_field(help_text=_("Granted at the start of every billing period."))
    user_limit = models.PositiveIntegerField(default=3)
    creator_limit = models.PositiveIntegerField(default=5)
    voice_model_limit = models.PositiveIntegerField(default=10)
    storage_limit_gb = models.PositiveIntegerField(default=50)
    monthly_generations = models.PositiveIntegerField(default=100, help_text=_("AI generations per month."))
    monthly_campaigns = models.PositiveIntegerField(default=3, help_text=_("Web-builder campaigns created per month."))
    trial_days = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "monthly_price"]

    def __str__(self) -> str:
        return self.name


class Subscription(TenantModel):
    # The same states as the account's `subscription_status`, which mirrors this row.
    Status = Account.SubscriptionStatus

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(auto_now_add=True)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    last_granted_period = models.DateField(null=True, blank=True, help_text=_("Start of the last period credited."))
    period_granted = credit_field(
        help_text=_("Plan credits granted for the current period (grants top up to the plan's).")
    )
    # A downgrade or cancellation waits for the period end; the Free plan when cancelled.
    scheduled_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    trial_used_at = models.DateTimeField(null=True, blank=True, help_text=_("One trial per account, ever."))
    # "" (the Free plan, periods rolled here), "comp" (given by an operator), or the payment provider.
    provider = models.CharField(max_length=30, blank=True)
    provider_subscription_id = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "current_period_end"])]

    def __str__(self) -> str:
        return f"{self.plan_id} for {self.account_id} ({self.status})"


class PlanChange(TenantModel):
    """The audit trail of an account's plan: every change, who or what made it, and why."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Started")
        CHECKOUT = "checkout", _("Checkout opened")
        PAID = "paid", _("Paid period")
        UPGRADE_REQUESTED = "upgrade_requested", _("Upgrade requested")
        SCHEDULED = "scheduled", _("Change at period end")
        RESUMED = "resumed", _("Scheduled change withdrawn")
        RENEWED = "renewed", _("Renewed")
        PAST_DUE = "past_due", _("Payment failed")
        ENDED = "ended", _("Ended")
        COMP = "comp", _("Comped by an operator")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    provider = models.CharField(max_length=30, blank=True)
    provider_ref = models.CharField(max_length=255, blank=True, help_text=_("Invoice, checkout or subscription id."))
    credits_granted = credit_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at"], name="billing_plan_change_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_plan_id} -> {self.to_plan_id}"
