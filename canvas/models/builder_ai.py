"""Seed 002 `ai_generations`: one row per AI request of the web builder
(a campaign's components, one component regenerated, an analysis...)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from billing.models.fields import credit_field

from .common import choice_check


class GenerationType(models.TextChoices):
    CAMPAIGN = "campaign", _("Campaign")
    COMPONENT = "component", _("Component")
    ENHANCEMENT = "enhancement", _("Enhancement")
    ANALYSIS = "analysis", _("Analysis")
    MIGRATION_PLAN = "migration_plan", _("Migration plan")


class GenerationStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class AIGeneration(TenantModel):
    """What was asked, of which model, what it cost and what came back.

    `cost` is the provider's cost in USD (seed DECIMAL(8,4), kept to six places: one small call costs
    less than $0.0001); `credits_charged`
    is what the account paid, settled from the billing reservation
    `reservation_id` held before the call. `iterations` counts model calls
    (1, or 2 after a corrective retry of invalid JSON)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign = models.ForeignKey(
        "canvas.Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="generations"
    )
    component = models.ForeignKey(
        "canvas.CampaignComponent", on_delete=models.SET_NULL, null=True, blank=True, related_name="generations"
    )
    generation_type = models.CharField(max_length=50, choices=GenerationType.choices)
    prompt_text = models.TextField()
    instruction = models.TextField(blank=True, help_text=_("For a regenerated component: what to change."))
    reference_images = ArrayField(models.TextField(), default=list, blank=True)
    model_used = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    credits_charged = credit_field()
    reservation_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=GenerationStatus.choices, default=GenerationStatus.PROCESSING)
    result_data = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    generation_time_seconds = models.PositiveIntegerField(null=True, blank=True)
    iterations = models.PositiveSmallIntegerField(default=0)
    user_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    user_feedback = models.TextField(blank=True)
    accepted = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "canvas_ai_generations"
        ordering = ["-created_at", "id"]
        constraints = [
            choice_check("generation_type", GenerationType, "canvas_generation_type"),
            choice_check("status", GenerationStatus, "canvas_generation_status"),
            models.CheckConstraint(
                condition=Q(user_rating__isnull=True) | Q(user_rating__gte=1, user_rating__lte=5),
                name="canvas_generation_rating",
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="canvas_generation_cost"),
            models.CheckConstraint(condition=Q(credits_charged__gte=0), name="canvas_generation_credits"),
        ]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="canvas_generation_account"),
            models.Index(fields=["user", "-created_at"], name="canvas_generation_user"),
            models.Index(fields=["campaign", "-created_at"], name="canvas_generation_campaign"),
            models.Index(fields=["cost"], name="canvas_generation_cost_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.generation_type} {self.id} ({self.status})"
