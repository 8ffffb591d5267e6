"""Seed 002 campaigns: the campaign (with its status machine and full-text
search), its components (versioned), and the editor's page versions (the
editable GrapesJS project and the published HTML/CSS snapshot)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel

from .common import choice_check

SEARCH_CONFIG = "english"


class CampaignType(models.TextChoices):
    LANDING_PAGE = "landing_page", _("Landing page")
    FUNNEL = "funnel", _("Funnel")
    EMAIL_SEQUENCE = "email_sequence", _("Email sequence")
    COMPLETE_CAMPAIGN = "complete_campaign", _("Complete campaign")
    COMPONENT_ENHANCEMENT = "component_enhancement", _("Component enhancement")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    GENERATING = "generating", _("Generating")
    READY = "ready", _("Ready")
    LAUNCHED = "launched", _("Launched")
    PAUSED = "paused", _("Paused")
    ARCHIVED = "archived", _("Archived")


# The only status changes allowed. A failed generation falls back to draft; a
# ready campaign may be regenerated; archived is final. The same table is a
# database trigger (migration canvas 0003), so no path writes another move.
CAMPAIGN_TRANSITIONS: dict[str, tuple[str, ...]] = {
    CampaignStatus.DRAFT: (CampaignStatus.GENERATING, CampaignStatus.READY, CampaignStatus.ARCHIVED),
    CampaignStatus.GENERATING: (CampaignStatus.READY, CampaignStatus.DRAFT),
    CampaignStatus.READY: (CampaignStatus.GENERATING, CampaignStatus.LAUNCHED, CampaignStatus.ARCHIVED),
    CampaignStatus.LAUNCHED: (CampaignStatus.PAUSED, CampaignStatus.ARCHIVED),
    CampaignStatus.PAUSED: (CampaignStatus.LAUNCHED, CampaignStatus.ARCHIVED),
    CampaignStatus.ARCHIVED: (),
}


class Campaign(TenantModel):
    """Seed 002 `campaigns`. `slug` is its public address (`/p/<slug>/`) once
    launched; `custom_domain` serves the same page when a request's Host is it.

    `search_vector` is kept by a database trigger (migration canvas 0003):
    name (weight A), goals and target audience (B), description (C), English
    configuration; search ranks with `ts_rank` over it (GIN index)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=80, unique=True)
    custom_domain = models.CharField(max_length=253, null=True, blank=True, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    campaign_type = models.CharField(
        max_length=30, choices=CampaignType.choices, default=CampaignType.LANDING_PAGE, db_column="type"
    )
    platform_source = models.CharField(max_length=50, blank=True)
    platform_source_id = models.CharField(max_length=255, blank=True)
    target_audience = models.TextField(blank=True)
    business_type = models.CharField(max_length=100, blank=True)
    goals = models.JSONField(default=list, blank=True)
    brand_guidelines = models.TextField(blank=True)
    performance_requirements = models.JSONField(default=dict, blank=True)
    views = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    revenue_generated = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    launched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "canvas_campaigns"
        ordering = ["-created_at", "id"]
        constraints = [
            choice_check("status", CampaignStatus, "canvas_campaign_status"),
            choice_check("campaign_type", CampaignType, "canvas_campaign_type"),
            models.CheckConstraint(condition=~Q(name=""), name="canvas_campaign_name"),
            models.CheckConstraint(condition=~Q(slug=""), name="canvas_campaign_slug"),
            models.CheckConstraint(condition=Q(revenue_generated__gte=0), name="canvas_campaign_revenue"),
        ]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="canvas_campaign_account"),
            models.Index(fields=["account", "status"], name="canvas_campaign_status_idx"),
            GinIndex(fields=["search_vector"], name="canvas_campaign_search"),
        ]

    def __str__(self) -> str:
        return self.name

    def can_become(self, status: str) -> bool:
        return status in CAMPAIGN_TRANSITIONS[self.status]


class ComponentType(models.TextChoices):
    LANDING_PAGE = "landing_page", _("Landing page")
    FORM = "form", _("Form")
    HEADER = "header", _("Header")
    FOOTER = "footer", _("Footer")
    HERO_SECTION = "hero_section", _("Hero section")
    TESTIMONIALS = "testimonials", _("Testimonials")
    PRICING = "pricing", _("Pricing")
    EMAIL_TEMPLATE = "email_template", _("Email template")
    POPUP = "popup", _("Popup")
    NAVIGATION = "navigation", _("Navigation")
    CUSTOM = "custom", _("Custom")


class CampaignComponent(TenantModel):
    """Seed 002 `campaign_components`. `code` is sanitised HTML (never stored
    unsanitised). A regenerated component is a new row with the next `version`
    and `parent_component` set to the row it came from; `is_current` marks the
    version the campaign's page uses (one per lineage)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=255)
    component_type = models.CharField(max_length=50, choices=ComponentType.choices, default=ComponentType.CUSTOM)
    code = models.TextField(blank=True)
    props = models.JSONField(default=dict, blank=True)
    css_styles = models.TextField(blank=True)
    preview_url = models.TextField(blank=True)
    export_formats = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    views = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    engagement_score = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    ai_generation_metadata = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    parent_component = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    is_current = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "canvas_campaign_components"
        ordering = ["sort_order", "version", "id"]
        constraints = [
            choice_check("component_type", ComponentType, "canvas_component_type"),
            models.CheckConstraint(condition=Q(version__gte=1), name="canvas_component_version"),
            models.CheckConstraint(
                condition=Q(engagement_score__gte=0, engagement_score__lte=100), name="canvas_component_engagement"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "sort_order"], name="canvas_component_order"),
            models.Index(fields=["account", "component_type"], name="canvas_component_type_idx"),
            models.Index(fields=["parent_component"], name="canvas_component_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class CampaignPage(TenantModel):
    """The editor's page for a campaign, one row per saved version.

    `project_data` is GrapesJS's editable project (`editor.getProjectData()`);
    `html`/`css` are the published snapshot (`getHtml()`/`getCss()`, sanitised).
    Autosave rewrites the campaign's open draft row (`is_published=False`);
    launching freezes it as a published version and later edits open a new draft.
    The hosted page serves the newest published version."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pages")
    version = models.PositiveIntegerField(default=1)
    project_data = models.JSONField(default=dict, blank=True)
    html = models.TextField(blank=True)
    css = models.TextField(blank=True)
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "canvas_campaign_pages"
        ordering = ["campaign", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "version"], name="canvas_page_version_once"),
            models.UniqueConstraint(fields=["campaign"], condition=Q(is_published=False), name="canvas_page_one_draft"),
            models.CheckConstraint(condition=Q(version__gte=1), name="canvas_page_version_positive"),
        ]

    def __str__(self) -> str:
        return f"page v{self.version} of {self.campaign_id}"
