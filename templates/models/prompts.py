"""Seed 001 `prompt_templates` and `prompt_experiments` (platform data).

A template is immutable once used: operators change a prompt by creating a new
version and activating it, so every result points at the exact text it ran.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutputFormat(models.TextChoices):
    TEXT = "text", _("Text")
    JSON = "json", "JSON"
    MARKDOWN = "markdown", "Markdown"
    IMAGE = "image", _("Image")  # the prompt goes to an image model; the result is its files


version_validator = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,9}$", "Up to 10 letters, digits, '.', '_' or '-'.")


class PromptTemplate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_type = models.SlugField(max_length=100, help_text=_("The service (Service.service_type) it serves."))
    ai_model = models.CharField(max_length=100, help_text=_("A chat model of the registry (AI models)."))
    version = models.CharField(max_length=10, validators=[version_validator], help_text="e.g. v1, v2.")
    system_prompt = models.TextField(blank=True)
    user_prompt_template = models.TextField(help_text=_("Text with {{parameter}} placeholders."))
    parameters = models.JSONField(
        default=list, blank=True, help_text=_("List of {name, type, required, label, enum, max_length, …}.")
    )
    output_format = models.CharField(max_length=20, choices=OutputFormat.choices, default=OutputFormat.TEXT)
    validation_schema = models.JSONField(null=True, blank=True, help_text=_("JSON Schema the JSON output must match."))
    temperature = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0.70"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("2"))],
    )  # fmt: skip
    max_tokens = models.PositiveIntegerField(default=1200, validators=[MinValueValidator(1), MaxValueValidator(32000)])
    description = models.TextField(blank=True)
    author = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=False, help_text=_("The version that runs; at most one per service."))
    activated_at = models.DateTimeField(null=True, blank=True, help_text=_("Last time it became active (roll back)."))
    usage_count = models.PositiveIntegerField(default=0)
    avg_tokens = models.PositiveIntegerField(null=True, blank=True)
    avg_response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    # Running totals, so the averages above are exact and updated in one statement.
    tokens_total = models.PositiveBigIntegerField(default=0, editable=False)
    response_time_total_ms = models.PositiveBigIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service_type", "-created_at"]
        indexes = [models.Index(fields=["service_type", "is_active"], name="templates_tpl_service_active")]
        constraints = [
            models.UniqueConstraint(fields=["service_type", "version"], name="templates_tpl_service_version"),
            models.UniqueConstraint(
                fields=["service_type"], condition=Q(is_active=True), name="templates_tpl_one_active_per_service"
            ),
            models.CheckConstraint(
                condition=Q(temperature__gte=0, temperature__lte=2), name="templates_tpl_temperature_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type} {self.version}{' (active)' if self.is_active else ''}"

    @property
    def is_frozen(self) -> bool:
        """Once active or used, results point at its text: changes go into a new version."""
        return self.is_active or self.activated_at is not None or self.usage_count > 0

    def clean(self) -> None:
        from templates.services.definitions import template_definition_errors

        errors = template_definition_errors(self)
        if errors:
            raise ValidationError(errors)


class PromptExperiment(models.Model):
    """A/B test of two templates of one service. Users are assigned to an arm by
    a hash of (experiment, user), so a user always sees the same arm."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class Winner(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        TIE = "tie", _("Tie")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=150, blank=True)
    service_type = models.SlugField(max_length=100)
    template_a = models.ForeignKey(PromptTemplate, on_delete=models.PROTECT, related_name="+")
    template_b = models.ForeignKey(PromptTemplate, on_delete=models.PROTECT, related_name="+")
    traffic_split = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(1), MaxValueValidator(99)], help_text=_("Percent of users on A.")
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    version_a_count = models.PositiveIntegerField(default=0, help_text=_("Completed results served by A."))
    version_b_count = models.PositiveIntegerField(default=0)
    version_a_avg_rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    version_b_avg_rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    # What the winner rule needs: ratings, their sum, and how many were 4 or 5.
    version_a_ratings = models.PositiveIntegerField(default=0)
    version_b_ratings = models.PositiveIntegerField(default=0)
    version_a_rating_sum = models.PositiveIntegerField(default=0)
    version_b_rating_sum = models.PositiveIntegerField(default=0)
    version_a_satisfied = models.PositiveIntegerField(default=0)
    version_b_satisfied = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    winner = models.CharField(max_length=10, choices=Winner.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_type"], condition=Q(status="running"), name="templates_exp_one_running_per_service"
            ),
            models.CheckConstraint(
                condition=Q(traffic_split__gte=1, traffic_split__lte=99), name="templates_exp_split_range"
            ),
            models.CheckConstraint(condition=~Q(template_a=models.F("template_b")), name="templates_exp_two_templates"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.service_type} experiment"

    def clean(self) -> None:
        from aiplatform.errors import InvalidInput
        from templates.services.experiments import arms_check

        if not (self.template_a_id and self.template_b_id):
            return
        try:
            arms_check(self.service_type, self.template_a, self.template_b)
        except InvalidInput as exc:
            raise ValidationError(exc.fields)

    def template_of(self, arm: str) -> PromptTemplate:
        return self.template_a if arm == "A" else self.template_b
