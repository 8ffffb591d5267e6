"""Seed 001 `service_results`: one run of a service for an account (tenant data)."""

from __future__ import annotations

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from aiplatform.ids import uuid7
from billing.models.fields import credit_field

from .fields import EncryptedJSONField, EncryptedTextField

RESULT_LIFETIME = relativedelta(months=12)


def default_expiry():
    """Seed 001: results are kept 12 months."""
    return timezone.now() + RESULT_LIFETIME


class ServiceResult(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to start")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    FINISHED = (Status.COMPLETED, Status.FAILED)

    # Time-ordered ids: results are listed newest first and appended all day.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey("templates.Service", on_delete=models.PROTECT, related_name="results")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    input_data = EncryptedJSONField(
        default=dict, blank=True, help_text=_("The validated parameters, encrypted at rest.")
    )
    input_files = ArrayField(
        EncryptedTextField(), default=list, blank=True,
        help_text=_("Storage paths of the files the user sent (a photo), encrypted at rest; never shown."),
    )  # fmt: skip
    result_data = models.JSONField(null=True, blank=True, help_text=_("Parsed JSON, or {'text': …} for text output."))
    result_text = models.TextField(blank=True, help_text=_("The model's answer as received."))
    output_format = models.CharField(max_length=20, default="text", help_text=_("The template's, when it ran."))
    result_files = ArrayField(
        models.TextField(), default=list, blank=True, help_text=_("Storage paths of the files made (images).")
    )
    # Money: the hold while running, the ledger row once settled.
    credits_charged = credit_field()
    reservation = models.OneToOneField(
        "billing.Reservation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    charge = models.ForeignKey(
        "billing.CreditTransaction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        db_index=False,
    )  # fmt: skip
    # What ran: the template (and its version as text, which survives the template), the model.
    prompt_template = models.ForeignKey(
        "templates.PromptTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    template_version = models.CharField(max_length=10, blank=True)
    version_pinned = models.BooleanField(default=False, help_text=_("The caller asked for this version."))
    experiment = models.ForeignKey(
        "templates.PromptExperiment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    experiment_arm = models.CharField(max_length=1, blank=True)
    ai_model = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=50, blank=True)
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    tokens_used = models.GeneratedField(
        expression=F("tokens_in") + F("tokens_out"), output_field=models.PositiveIntegerField(), db_persist=True
    )
    processing_time_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text=_("Model calls made (output retries included)."))
    error_code = models.CharField(max_length=50, blank=True)
    error = models.TextField(blank=True, help_text=_("Shown to the user: what went wrong and what to do."))
    # Feedback.
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    feedback = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # Sharing: a random token (not the id) opens the public page.
    is_public = models.BooleanField(default=False)
    share_token = models.CharField(max_length=64, unique=True, null=True, blank=True)  # noqa: DJ001
    shared_at = models.DateTimeField(null=True, blank=True)
    share_expires_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    max_views = models.PositiveIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(default=default_expiry, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="templates_result_account_time"),
            models.Index(fields=["account", "user", "service"], name="templates_result_user_service"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="templates_result_rating_1_5"
            ),
            models.CheckConstraint(
                condition=Q(is_public=False) | Q(share_token__isnull=False), name="templates_result_public_has_token"
            ),
            models.CheckConstraint(condition=Q(experiment_arm__in=["", "A", "B"]), name="templates_result_arm"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} result {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def processing_seconds(self) -> float | None:
        return None if self.processing_time_ms is None else round(self.processing_time_ms / 1000, 1)

    def share_state(self, now=None) -> str:
        """'private', 'active', 'expired' or 'used_up' (the view cap is reached)."""
        now = now or timezone.now()
        if not self.is_public:
            return "private"
        if self.share_expires_at is not None and self.share_expires_at <= now:
            return "expired"
        if self.max_views is not None and self.view_count >= self.max_views:
            return "used_up"
        return "active"
