"""API shapes of content pieces, annotations, analyses and scripts."""

from __future__ import annotations

from rest_framework import serializers

from .models import (
    AnnotationType,
    ContentAnalysis,
    ContentAnnotation,
    ContentPiece,
    ContentPlatform,
    ContentType,
    GeneratedScript,
)


class ContentPieceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContentPiece
        fields = [
            "id", "project", "creator", "uploaded_by", "source_url", "platform", "content_type", "title",
            "description", "thumbnail_url", "original_file_url", "transcript", "duration_seconds", "file_size_bytes",
            "position_x", "position_y", "metadata", "storage_expires_at", "is_remix", "processing_status", "version",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ContentPieceQuerySerializer(serializers.Serializer):
    project = serializers.UUIDField(required=False, help_text="Pieces on this project's board.")
    inbox = serializers.BooleanField(
        required=False,
        default=None,
        allow_null=True,
        help_text="true: the account's inbox (scraped pieces not on a project yet).",
    )
    content_type = serializers.ChoiceField(choices=ContentType.choices, required=False)
    platform = serializers.ChoiceField(choices=ContentPlatform.choices, required=False)
    creator = serializers.UUIDField(required=False)


class ContentPieceCreateSerializer(serializers.Serializer):
    """By URL (`source_url`, JSON) or by upload (`file`, multipart): one of the two."""

    project = serializers.UUIDField()
    source_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    file = serializers.FileField(required=False, allow_empty_file=True)
    content_type = serializers.ChoiceField(choices=ContentType.choices, required=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200_000)
    x = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, default=0)
    y = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, default=0)

    def validate(self, data):
        if bool(data.get("source_url")) == bool(data.get("file")):
            raise serializers.ValidationError({"source_url": ["Give either a post's URL or a file to upload."]})
        return data


class ContentPieceUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200_000)
    transcript = serializers.CharField(required=False, allow_blank=True, max_length=200_000)
    is_remix = serializers.BooleanField(required=False)


class ContentPlaceSerializer(serializers.Serializer):
    project = serializers.UUIDField()
    x = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, default=0)
    y = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, default=0)


class AnnotationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContentAnnotation
        fields = [
            "id", "content_piece", "user", "annotation_text", "annotation_type", "position_x", "position_y",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class AnnotationWriteSerializer(serializers.Serializer):
    content_piece = serializers.UUIDField()
    annotation_text = serializers.CharField(max_length=10_000)
    annotation_type = serializers.ChoiceField(choices=AnnotationType.choices, required=False)
    position_x = serializers.DecimalField(required=False, allow_null=True, max_digits=12, decimal_places=2)
    position_y = serializers.DecimalField(required=False, allow_null=True, max_digits=12, decimal_places=2)


class AnnotationUpdateSerializer(serializers.Serializer):
    annotation_text = serializers.CharField(required=False, max_length=10_000)
    annotation_type = serializers.ChoiceField(choices=AnnotationType.choices, required=False)
    position_x = serializers.DecimalField(required=False, allow_null=True, max_digits=12, decimal_places=2)
    position_y = serializers.DecimalField(required=False, allow_null=True, max_digits=12, decimal_places=2)


class AnnotationQuerySerializer(serializers.Serializer):
    content_piece = serializers.UUIDField(required=False)


class AnalysisSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContentAnalysis
        fields = [
            "id", "content_piece", "hook_analysis", "body_analysis", "cta_analysis", "content_style_analysis",
            "hashtags", "mentions", "trending_elements", "engagement_score", "sentiment_score", "analysis_status",
            "analyzed_at", "ai_model_used", "analysis_cost_credits", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ScriptSerializer(serializers.ModelSerializer):
    class Meta:
        model = GeneratedScript
        fields = [
            "id", "content_piece", "user", "original_script", "research_perspectives", "rewritten_script",
            "generation_prompt", "ai_model_used", "generation_status", "generation_cost_credits", "generated_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ScriptUpdateSerializer(serializers.Serializer):
    rewritten_script = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    original_script = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    research_perspectives = serializers.ListField(child=serializers.JSONField(), required=False, max_length=50)


class JobStartedSerializer(serializers.Serializer):
    """A job was queued: poll `/api/v1/jobs/{job}/` for its live status."""

    job = serializers.UUIDField()
    status = serializers.CharField()
    estimated_credits = serializers.DecimalField(max_digits=18, decimal_places=4)


class ScriptStartSerializer(serializers.Serializer):
    instructions = serializers.CharField(required=False, allow_blank=True, max_length=2000)
