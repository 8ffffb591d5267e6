from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel

from .fields import credit_field, money_field


class UsageRecord(TenantModel):
    """One row per AI call, written by the AI gateway through billing.services.usage."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        ERROR = "error", _("Error")
        CANCELLED = "cancelled", _("Cancelled")
        BLOCKED = "blocked", _("Blocked by the output guard")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    feature = models.CharField(max_length=50, help_text=_("chat, service, embedding, speech, avatar, image…"))
    model = models.CharField(max_length=100)
    provider = models.CharField(max_length=50)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    provider_cost = money_field(default=0, help_text=_("What the call cost us at the provider (USD)."))
    credits = credit_field(help_text=_("What the ledger charged for this call: 0 when failed, refused or blocked."))
    latency_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    generation = models.BooleanField(
        default=False, help_text=_("A generation a user asked for (counts against the plan's monthly generations).")
    )
    error = models.TextField(blank=True)
    reference_type = models.CharField(max_length=50, blank=True)
    reference_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at"], name="billing_usage_account_time")]


class UserMonthlyUsage(TenantModel):
    """Seed 002 `user_usage`: per user per month."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text=_("First day of the month."))
    ai_credits_used = credit_field(help_text=_("Credits the ledger charged."))
    provider_cost = money_field(default=0, help_text=_("What the calls cost us at the providers (USD)."))
    generations = models.PositiveIntegerField(default=0)
    tokens_used = models.PositiveBigIntegerField(default=0)
    api_calls_made = models.PositiveIntegerField(default=0)
    campaigns_generated = models.PositiveIntegerField(default=0)
    storage_bytes_used = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "user", "month"], name="billing_user_month_unique")]


class DailyProviderCost(TenantModel):
    """Seed 002 `ai_cost_tracking`: per user per day per provider."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    date = models.DateField()
    provider = models.CharField(max_length=50)
    cost = money_field(default=0)
    generations_count = models.PositiveIntegerField(default=0)
    tokens_used = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "user", "date", "provider"],
                name="billing_daily_cost_unique",
                nulls_distinct=False,
            )
        ]


class AccountDailyUsage(TenantModel):
    """Seed 003 `account_usage_stats`: per account per day."""

    stat_date = models.DateField()
    total_credits_used = credit_field(help_text=_("Credits the ledger charged."))
    ai_calls = models.PositiveIntegerField(default=0)
    generations = models.PositiveIntegerField(default=0, help_text=_("Generations users asked for (not embeddings)."))
    tokens_used = models.PositiveBigIntegerField(default=0)
    provider_cost = money_field(default=0)
    projects_created = models.PositiveIntegerField(default=0)
    content_pieces_added = models.PositiveIntegerField(default=0)
    scripts_generated = models.PositiveIntegerField(default=0)
    voice_generations = models.PositiveIntegerField(default=0)
    avatar_generations = models.PositiveIntegerField(default=0)
    storage_used_gb = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "stat_date"], name="billing_account_day_unique")]


class ApiRequestLog(TenantModel):
    """Seed 003 `api_usage_logs`: one row per API request of an account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    service_name = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=255)
    request_type = models.CharField(max_length=10)
    tokens_used = models.PositiveIntegerField(default=0)
    credits_cost = credit_field()
    response_time_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField()
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at"], name="billing_apilog_account_time")]
