"""Seed 002 platform integrations (WordPress, GoHighLevel, Simvoly, custom
webhooks), what was published through them, and AI analyses of imported pages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from billing.models.fields import credit_field
from personas.fields import EncryptedTextField

from .common import choice_check


class PlatformType(models.TextChoices):
    GOHIGHLEVEL = "gohighlevel", "GoHighLevel"
    SIMVOLY = "simvoly", "Simvoly"
    WORDPRESS = "wordpress", "WordPress"
    CUSTOM = "custom", _("Custom webhook")


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    DISCONNECTED = "disconnected", _("Disconnected")
    ERROR = "error", _("Error")
    PENDING = "pending", _("Pending")


class SyncStatus(models.TextChoices):
    IDLE = "idle", _("Idle")
    SYNCING = "syncing", _("Syncing")
    ERROR = "error", _("Error")
    COMPLETED = "completed", _("Completed")


class PlatformIntegration(TenantModel):
    """Seed 002 `platform_integrations`: one connection per platform per account.
    `encrypted_credentials` is a JSON document (application password, OAuth
    tokens, API key...) encrypted at rest with the personas Fernet keys."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    platform_type = models.CharField(max_length=50, choices=PlatformType.choices)
    connection_status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.PENDING
    )
    account_name = models.CharField(max_length=255, blank=True)
    account_email = models.CharField(max_length=255, blank=True)
    encrypted_credentials = EncryptedTextField(blank=True, default="")
    platform_metadata = models.JSONField(default=dict, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    sync_status = models.CharField(max_length=20, choices=SyncStatus.choices, default=SyncStatus.IDLE)
    sync_error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "canvas_platform_integrations"
        ordering = ["platform_type", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "platform_type"], name="canvas_integration_once"),
            choice_check("platform_type", PlatformType, "canvas_integration_platform"),
            choice_check("connection_status", ConnectionStatus, "canvas_integration_connection"),
            choice_check("sync_status", SyncStatus, "canvas_integration_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.platform_type} ({self.connection_status})"


class PublicationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")


class CampaignPublication(TenantModel):
    """A campaign published through an integration: the remote id (WordPress
    page id, GHL redirect or template id...) so a relaunch updates it rather
    than creating another."""

    integration = models.ForeignKey(PlatformIntegration, on_delete=models.CASCADE, related_name="publications")
    campaign = models.ForeignKey("canvas.Campaign", on_delete=models.CASCADE, related_name="publications")
    target = models.CharField(max_length=50, default="page", help_text=_("page, redirect, email_template, embed..."))
    external_id = models.CharField(max_length=255, blank=True)
    external_url = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=PublicationStatus.choices, default=PublicationStatus.QUEUED)
    error_message = models.TextField(blank=True)
    last_published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "canvas_campaign_publications"
        ordering = ["-updated_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "campaign", "target"], name="canvas_publication_once"),
            choice_check("status", PublicationStatus, "canvas_publication_status"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} on {self.integration_id} ({self.status})"


class AnalysisType(models.TextChoices):
    FULL_AUDIT = "full_audit", _("Full audit")
    CAMPAIGN_ANALYSIS = "campaign_analysis", _("Campaign analysis")
    MIGRATION_ASSESSMENT = "migration_assessment", _("Migration assessment")


class AnalysisStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class PlatformAnalysis(TenantModel):
    """Seed 002 `platform_analyses`: an AI audit of an imported page or funnel.
    `integration` is optional: a page can also be imported by URL."""

    integration = models.ForeignKey(
        PlatformIntegration, on_delete=models.SET_NULL, null=True, blank=True, related_name="analyses"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    analysis_type = models.CharField(max_length=50, choices=AnalysisType.choices)
    status = models.CharField(max_length=20, choices=AnalysisStatus.choices, default=AnalysisStatus.PENDING)
    source_url = models.TextField(blank=True)
    source_ref = models.CharField(max_length=255, blank=True, help_text=_("Remote page/funnel id."))
    summary = models.JSONField(default=dict, blank=True)
    campaigns_analyzed = models.JSONField(default=list, blank=True)
    recommendations = models.JSONField(default=list, blank=True)
    migration_assessment = models.JSONField(default=dict, blank=True)
    ai_model_used = models.CharField(max_length=100, blank=True)
    ai_cost = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    credits_charged = credit_field()
    processing_time_seconds = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "canvas_platform_analyses"
        verbose_name_plural = "platform analyses"
        ordering = ["-created_at", "id"]
        constraints = [
            choice_check("analysis_type", AnalysisType, "canvas_analysis_type_check"),
            choice_check("status", AnalysisStatus, "canvas_platform_analysis_status"),
            models.CheckConstraint(condition=Q(ai_cost__gte=0), name="canvas_platform_analysis_cost"),
        ]
        indexes = [models.Index(fields=["account", "-created_at"], name="canvas_platform_analysis_time")]

    def __str__(self) -> str:
        return f"{self.analysis_type} {self.id} ({self.status})"
