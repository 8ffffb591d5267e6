"""Seed 003 content: pieces (on a project's board or in the account's inbox of
content), annotations on them, and their AI analyses."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from billing.models.fields import credit_field

from .common import BoardNode, WorkStatus, choice_check, coordinate


class ContentPlatform(models.TextChoices):
    INSTAGRAM = "instagram", "Instagram"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    LINKEDIN = "linkedin", "LinkedIn"
    TWITTER = "twitter", "X (Twitter)"
    UPLOAD = "upload", _("Upload")


class ContentType(models.TextChoices):
    VIDEO = "video", _("Video")
    IMAGE = "image", _("Image")
    TEXT = "text", _("Text")
    AUDIO = "audio", _("Audio")


class ContentPiece(BoardNode, TenantModel):
    """Seed 003 `content_pieces`. `project` is empty for a piece in the account's
    inbox of content (scraped from a followed creator, not placed yet); on a
    board it is a node (position, version)."""

    project = models.ForeignKey(
        "canvas.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="content_pieces"
    )
    creator = models.ForeignKey(
        "canvas.Creator", on_delete=models.SET_NULL, null=True, blank=True, related_name="content_pieces"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_url = models.TextField(help_text=_("The post's URL, or where an upload was stored."))
    platform = models.CharField(max_length=50, choices=ContentPlatform.choices)
    content_type = models.CharField(max_length=50, choices=ContentType.choices)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    thumbnail_url = models.TextField(blank=True)
    original_file_url = models.TextField(blank=True)
    original_file_path = models.TextField(blank=True)
    transcript = models.TextField(blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    file_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    position_x = coordinate()
    position_y = coordinate()
    metadata = models.JSONField(default=dict, blank=True)
    storage_expires_at = models.DateTimeField(null=True, blank=True)
    is_remix = models.BooleanField(default=False)
    processing_status = models.CharField(max_length=50, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            choice_check("platform", ContentPlatform, "canvas_piece_platform"),
            choice_check("content_type", ContentType, "canvas_piece_type"),
            choice_check("processing_status", WorkStatus, "canvas_piece_status"),
        ]
        indexes = [
            models.Index(fields=["account", "project"], name="canvas_piece_account_project"),
            models.Index(fields=["creator"], name="canvas_piece_creator"),
            models.Index(
                fields=["storage_expires_at"],
                condition=models.Q(storage_expires_at__isnull=False),
                name="canvas_piece_expiry",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.source_url


class AnnotationType(models.TextChoices):
    NOTE = "note", _("Note")
    HIGHLIGHT = "highlight", _("Highlight")
    BOOKMARK = "bookmark", _("Bookmark")


class ContentAnnotation(TenantModel):
    """Seed 003 `content_annotations`: a note, highlight or bookmark on a piece,
    at an optional position on it."""

    content_piece = models.ForeignKey(ContentPiece, on_delete=models.CASCADE, related_name="annotations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    annotation_text = models.TextField()
    position_x = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    position_y = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    annotation_type = models.CharField(max_length=50, choices=AnnotationType.choices, default=AnnotationType.NOTE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            choice_check("annotation_type", AnnotationType, "canvas_annotation_type"),
            models.CheckConstraint(condition=~models.Q(annotation_text=""), name="canvas_annotation_text"),
        ]
        indexes = [models.Index(fields=["content_piece", "created_at"], name="canvas_annotation_piece")]

    def __str__(self) -> str:
        return f"{self.annotation_type} on {self.content_piece_id}"


class ContentAnalysis(TenantModel):
    """Seed 003 `content_analysis`: one AI analysis of a piece (a piece may be
    analysed again; the newest completed one is current)."""

    content_piece = models.ForeignKey(ContentPiece, on_delete=models.CASCADE, related_name="analyses")
    hook_analysis = models.TextField(blank=True)
    body_analysis = models.TextField(blank=True)
    cta_analysis = models.TextField(blank=True)
    content_style_analysis = models.TextField(blank=True)
    hashtags = ArrayField(models.TextField(), default=list, blank=True)
    mentions = ArrayField(models.TextField(), default=list, blank=True)
    trending_elements = models.JSONField(default=dict, blank=True)
    engagement_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    sentiment_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    analysis_status = models.CharField(max_length=50, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    analyzed_at = models.DateTimeField(null=True, blank=True)
    ai_model_used = models.CharField(max_length=100, blank=True)
    analysis_cost_credits = credit_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "content analyses"
        ordering = ["-created_at", "id"]
        constraints = [
            choice_check("analysis_status", WorkStatus, "canvas_analysis_status"),
            # Engagement is a 0-100 score, sentiment -1 (negative) to 1 (positive).
            models.CheckConstraint(
                condition=models.Q(engagement_score__gte=0, engagement_score__lte=100)
                | models.Q(engagement_score__isnull=True),
                name="canvas_analysis_engagement",
            ),
            models.CheckConstraint(
                condition=models.Q(sentiment_score__gte=Decimal("-1"), sentiment_score__lte=Decimal("1"))
                | models.Q(sentiment_score__isnull=True),
                name="canvas_analysis_sentiment",
            ),
            models.CheckConstraint(condition=models.Q(analysis_cost_credits__gte=0), name="canvas_analysis_cost"),
        ]
        indexes = [models.Index(fields=["content_piece", "-created_at"], name="canvas_analysis_piece")]

    def __str__(self) -> str:
        return f"analysis of {self.content_piece_id} ({self.analysis_status})"
