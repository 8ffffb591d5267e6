from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.tenancy.models import TenantModel

from .fields import credit_field


class CostControl(TenantModel):
    """Spend alerts and the emergency shut-off of AI calls (seed 002)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="cost_control")
    daily_limit = credit_field(null=True, blank=True, help_text=_("Credits per day before owners are alerted."))
    monthly_limit = credit_field(null=True, blank=True, help_text=_("Credits per month before owners are alerted."))
    auto_shutoff = models.BooleanField(default=False, help_text=_("Engage the shut-off when a limit is reached."))
    shutoff_active = models.BooleanField(default=False)
    shutoff_reason = models.TextField(blank=True)
    shutoff_at = models.DateTimeField(null=True, blank=True)
    shutoff_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_daily_alert = models.DateField(null=True, blank=True)
    last_monthly_alert = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
