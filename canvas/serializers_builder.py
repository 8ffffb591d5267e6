"""Serializers of the web builder API (campaigns, components, generations, pages)."""

from __future__ import annotations

from rest_framework import serializers

from canvas.models import AIGeneration, Campaign, CampaignComponent, CampaignStatus, CampaignType, ComponentType

from .services.builder import components


class CampaignSerializer(serializers.ModelSerializer):
    rank = serializers.FloatField(
        read_only=True, allow_null=True, default=None, help_text="Search rank (null without `q`)."
    )
    hosted_url = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "slug", "description", "status", "campaign_type", "target_audience", "business_type",
            "goals", "brand_guidelines", "performance_requirements", "platform_source", "platform_source_id",
            "views", "conversions", "revenue_generated", "launched_at", "created_at", "updated_at", "rank",
            "hosted_url", "allowed_transitions",
        ]  # fmt: skip
        read_only_fields = fields

    def get_hosted_url(self, obj) -> str | None:
        return f"/p/{obj.slug}/" if obj.status == CampaignStatus.LAUNCHED else None

    def get_allowed_transitions(self, obj) -> list[str]:
        from canvas.models import CAMPAIGN_TRANSITIONS

        return list(CAMPAIGN_TRANSITIONS[obj.status])


class CampaignQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Full-text search, ranked.")
    status = serializers.ChoiceField(choices=CampaignStatus.choices, required=False)
    campaign_type = serializers.ChoiceField(choices=CampaignType.choices, required=False)


class CampaignWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    campaign_type = serializers.ChoiceField(choices=CampaignType.choices, required=False)
    target_audience = serializers.CharField(required=False, allow_blank=True)
    business_type = serializers.CharField(required=False, allow_blank=True, max_length=100)
    goals = serializers.ListField(child=serializers.CharField(max_length=300), required=False, max_length=20)
    brand_guidelines = serializers.CharField(required=False, allow_blank=True)
    performance_requirements = serializers.DictField(required=False)


class CampaignUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    target_audience = serializers.CharField(required=False, allow_blank=True)
    business_type = serializers.CharField(required=False, allow_blank=True, max_length=100)
    goals = serializers.ListField(child=serializers.CharField(max_length=300), required=False, max_length=20)
    brand_guidelines = serializers.CharField(required=False, allow_blank=True)


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CampaignStatus.choices)


class GenerateSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=4000)
    reference_images = serializers.ListField(child=serializers.URLField(max_length=2000), required=False, max_length=4)


class RegenerateSerializer(serializers.Serializer):
    instruction = serializers.CharField(max_length=1000)


class FeedbackSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    feedback = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    accepted = serializers.BooleanField(required=False, allow_null=True, default=None)


class PageSaveSerializer(serializers.Serializer):
    project = serializers.DictField()
    html = serializers.CharField(allow_blank=True, trim_whitespace=False)
    css = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False, default="")


class CampaignComponentSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignComponent
        fields = [
            "id", "campaign", "name", "component_type", "code", "props", "css_styles", "preview_url",
            "export_formats", "views", "clicks", "conversions", "engagement_score", "ai_generation_metadata",
            "version", "parent_component", "is_current", "sort_order", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class _ComponentFields(serializers.Serializer):
    component_type = serializers.ChoiceField(choices=ComponentType.choices, required=False)
    code = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=components.CODE_MAX_CHARS,
        help_text="HTML (sanitised when stored).",
    )  # fmt: skip
    css_styles = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                       max_length=components.CODE_MAX_CHARS)  # fmt: skip
    props = serializers.DictField(required=False)
    export_formats = serializers.ListField(child=serializers.ChoiceField(choices=components.EXPORT_FORMATS),
                                           required=False, max_length=len(components.EXPORT_FORMATS))  # fmt: skip


class ComponentCreateSerializer(_ComponentFields):
    campaign = serializers.UUIDField()
    name = serializers.CharField(max_length=255)


class ComponentUpdateSerializer(_ComponentFields):
    name = serializers.CharField(max_length=255, required=False)


class ComponentOrderSerializer(serializers.Serializer):
    campaign = serializers.UUIDField()
    order = serializers.ListField(
        child=serializers.UUIDField(), max_length=500,
        help_text="Every current component of the campaign, once, in the new order.",
    )  # fmt: skip


class ComponentQuerySerializer(serializers.Serializer):
    campaign = serializers.UUIDField(required=False)
    current = serializers.BooleanField(required=False, allow_null=True, default=None)


class GenerationSerializer(serializers.ModelSerializer):
    events_url = serializers.SerializerMethodField()

    class Meta:
        model = AIGeneration
        fields = [
            "id", "campaign", "component", "generation_type", "prompt_text", "instruction", "reference_images",
            "model_used", "prompt_tokens", "completion_tokens", "cost", "credits_charged", "status", "result_data",
            "error_message", "generation_time_seconds", "iterations", "user_rating", "user_feedback", "accepted",
            "created_at", "completed_at", "events_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_events_url(self, obj) -> str:
        return f"/canvas/builder/generations/{obj.pk}/events/"
