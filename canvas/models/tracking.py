"""Seed 002 tracking: `campaign_events` (views, clicks, form submits, email
opens/clicks) and `conversions`, written in batches by the collector.

Privacy: `session_id` is the visitor hash (daily salt + campaign + IP + user
agent), never a cookie; `ip_address` is stored truncated (/24 for IPv4, /48
for IPv6) or not at all."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel

from .common import choice_check


class EventType(models.TextChoices):
    VIEW = "view", _("View")
    CLICK = "click", _("Click")
    CONVERSION = "conversion", _("Conversion")
    FORM_SUBMIT = "form_submit", _("Form submit")
    EMAIL_OPEN = "email_open", _("Email open")
    EMAIL_CLICK = "email_click", _("Email click")


class CampaignEvent(TenantModel):
    campaign = models.ForeignKey("canvas.Campaign", on_delete=models.CASCADE, related_name="events")
    component = models.ForeignKey(
        "canvas.CampaignComponent", on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    event_type = models.CharField(max_length=50, choices=EventType.choices)
    event_data = models.JSONField(default=dict, blank=True)
    session_id = models.CharField(max_length=255, blank=True, help_text=_("Daily-salted visitor hash."))
    user_agent = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True, help_text=_("Truncated, never the full IP."))
    referrer = models.TextField(blank=True)
    url = models.TextField(blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    click_id = models.CharField(max_length=255, blank=True, help_text=_("gclid, fbclid, msclkid..."))
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "canvas_campaign_events"
        ordering = ["-created_at", "id"]
        constraints = [choice_check("event_type", EventType, "canvas_event_type")]
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="canvas_event_campaign_time"),
            models.Index(fields=["campaign", "event_type"], name="canvas_event_campaign_type"),
            models.Index(fields=["component", "event_type"], name="canvas_event_component_type"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} on {self.campaign_id}"


class Conversion(TenantModel):
    campaign = models.ForeignKey("canvas.Campaign", on_delete=models.CASCADE, related_name="conversion_rows")
    component = models.ForeignKey(
        "canvas.CampaignComponent", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversion_rows"
    )
    event = models.OneToOneField(
        CampaignEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversion"
    )
    conversion_type = models.CharField(max_length=50, default="conversion")
    value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True)
    session_id = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=100, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "canvas_conversions"
        ordering = ["-created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(value__gte=0), name="canvas_conversion_value")]
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="canvas_conversion_time"),
            models.Index(fields=["component"], name="canvas_conversion_component"),
        ]

    def __str__(self) -> str:
        return f"{self.conversion_type} {self.value} {self.currency}"
