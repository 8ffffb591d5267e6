"""Seed 002 system tables of the web builder.

- `app_settings` is `accounts.AppSetting` (platform rows, with per-account
  overrides inside a flag's value), read through `accounts.flags`; nothing here.
- `job_queue`: `BuilderJob`, the row each builder job (generation, publishing,
  analysis) is, run by the processing queue mechanism of `canvas.services.queue`
  as its store "builder" (columns match that mechanism: `payload` is the job's
  data, `pending`/`retrying` are its waiting statuses).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from billing.models.fields import credit_field

from .common import choice_check


class BuilderJobType(models.TextChoices):
    GENERATION = "generation", _("Generation")
    COMPONENT_REGENERATION = "component_regeneration", _("Component regeneration")
    PUBLISHING = "publishing", _("Publishing")
    ANALYSIS = "analysis", _("Analysis")


class BuilderJobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    RETRYING = "retrying", _("Retrying")
    CANCELLED = "cancelled", _("Cancelled")


class BuilderJob(TenantModel):
    """Seed 002 `job_queue` (plus `cancelled`, progress and the Celery task id)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job_type = models.CharField(max_length=100, choices=BuilderJobType.choices)
    payload = models.JSONField(default=dict, blank=True)
    priority = models.IntegerField(default=0)
    status = models.CharField(max_length=20, choices=BuilderJobStatus.choices, default=BuilderJobStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    error_message = models.TextField(blank=True)
    scheduled_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    estimated_credits = credit_field()
    actual_credits = credit_field()
    task_id = models.CharField(max_length=255, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "canvas_job_queue"
        ordering = ["-priority", "scheduled_at", "id"]
        constraints = [
            choice_check("job_type", BuilderJobType, "canvas_builder_job_type"),
            choice_check("status", BuilderJobStatus, "canvas_builder_job_status"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="canvas_builder_job_max_attempts"),
            models.CheckConstraint(
                condition=Q(attempts__lte=models.F("max_attempts")), name="canvas_builder_job_attempts"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="canvas_builder_job_progress"),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="canvas_builder_job_due"),
            models.Index(fields=["account", "status", "-created_at"], name="canvas_builder_job_account"),
        ]

    def __str__(self) -> str:
        return f"{self.job_type} {self.id} ({self.status})"
