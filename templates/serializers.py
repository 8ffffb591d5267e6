"""API shapes. The language comes in the serializer context (`lang`)."""

from __future__ import annotations

import json

from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.utils import html

from templates.models import OutputFormat, PromptExperiment, PromptTemplate, Service, ServiceResult
from templates.services.experiments import WINNER_RULE, experiment_evaluate
from templates.services.offline import DEMO_LABEL, offline_service_types, uses_offline_model
from templates.services.parameters import enum_choices, localized
from templates.services.sharing import MAX_SHARE_DAYS, MAX_VIEW_CAP


def _lang(serializer) -> str:
    return serializer.context.get("lang", "en")


def _demo_types(serializer) -> set[str]:
    """Services on the offline model, computed once per response (shared by a list's items)."""
    root = serializer.root
    if not hasattr(root, "_demo_types"):
        root._demo_types = offline_service_types()
    return root._demo_types


class ServiceSerializer(serializers.ModelSerializer):
    """`demo`: the active template runs on the offline model, so a run is free
    (`price` 0) and labelled `demo_label` (or refused, as the operator set)."""

    code = serializers.CharField(source="service_type", read_only=True)
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    demo = serializers.SerializerMethodField()
    demo_label = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = ["code", "category", "name", "description", "credit_cost", "price", "demo", "demo_label", "icon"]
        read_only_fields = fields

    def get_demo(self, service: Service) -> bool:
        return service.service_type in _demo_types(self)

    def get_demo_label(self, service: Service) -> str | None:
        return str(DEMO_LABEL) if self.get_demo(service) else None

    def get_price(self, service: Service) -> str:
        return "0.0000" if self.get_demo(service) else f"{service.credit_cost:.4f}"

    def get_name(self, service: Service) -> str:
        return service.name_in(_lang(self))

    def get_description(self, service: Service) -> str:
        return service.description_in(_lang(self))


class ParameterSerializer(serializers.Serializer):
    """One parameter of the form, labels in the request's language."""

    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    label = serializers.CharField()
    help = serializers.CharField()
    choices = serializers.ListField(child=serializers.DictField(), required=False)
    min_length = serializers.IntegerField(required=False)
    max_length = serializers.IntegerField(required=False)
    minimum = serializers.FloatField(required=False)
    maximum = serializers.FloatField(required=False)
    default = serializers.JSONField(required=False)

    def to_representation(self, spec: dict) -> dict:
        lang = _lang(self)
        data = {
            "name": spec["name"],
            "type": spec["type"],
            "required": bool(spec.get("required")),
            "label": localized(spec, "label", lang),
            "help": localized(spec, "help", lang),
        }
        if "enum" in spec:
            data["choices"] = [{"value": v, "label": label} for v, label in enum_choices(spec, lang)]
        for key in ("min_length", "max_length", "minimum", "maximum", "default"):
            if key in spec:
                data[key] = spec[key]
        return data


class ServiceDetailSerializer(ServiceSerializer):
    available = serializers.BooleanField(read_only=True)
    output_format = serializers.CharField(read_only=True, allow_null=True)
    parameters = serializers.SerializerMethodField()
    versions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(ServiceSerializer.Meta):
        fields = [*ServiceSerializer.Meta.fields, "description_ko", "description_en", "name_ko", "name_en",
                  "available", "output_format", "parameters", "versions"]  # fmt: skip
        read_only_fields = fields

    def get_parameters(self, service) -> list[dict]:
        return ParameterSerializer(getattr(service, "parameters", []), many=True, context=self.context).data


class ParamsField(serializers.DictField):
    """An object; in a multipart upload (a photo beside the values) the same object as a JSON string."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary.get(self.field_name)  # multipart: the JSON string itself
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError(_("Send the parameters as a JSON object.")) from None
        return super().to_internal_value(data)


class RunSerializer(serializers.Serializer):
    params = ParamsField(
        help_text="Parameter name -> value, as the service's `parameters` describe. With a photo, send "
        "multipart/form-data: this object as a JSON string in `params`, each photo as a file part named after "
        "its image parameter.",
    )  # fmt: skip
    template_version = serializers.CharField(required=False, allow_blank=False, max_length=10)


class ResultSerializer(serializers.ModelSerializer):
    service = serializers.SerializerMethodField()
    user = serializers.EmailField(source="user.email", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    output = serializers.JSONField(source="result_data", read_only=True)
    output_text = serializers.CharField(source="result_text", read_only=True)
    share_url = serializers.SerializerMethodField()
    demo = serializers.SerializerMethodField()
    demo_label = serializers.SerializerMethodField()
    input_data = serializers.JSONField(read_only=True)
    input_files = serializers.SerializerMethodField(help_text="Download URLs of the photos sent (members only).")
    result_files = serializers.SerializerMethodField(help_text="Download URLs of the images made (members only).")

    class Meta:
        model = ServiceResult
        fields = [
            "id", "service", "user", "status", "status_label", "demo", "demo_label", "input_data", "input_files",
            "output_format", "output", "result_files",
            "output_text", "credits_charged", "template_version", "ai_model", "tokens_in", "tokens_out",
            "tokens_used", "processing_time_ms", "attempts", "error_code", "error", "rating", "feedback",
            "is_public", "share_url", "share_expires_at", "view_count", "max_views", "expires_at", "created_at",
            "completed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_service(self, result: ServiceResult) -> dict:
        return {"code": result.service.service_type, "name": result.service.name_in(_lang(self))}

    def get_demo(self, result: ServiceResult) -> bool:
        return uses_offline_model(result.ai_model)

    def get_demo_label(self, result: ServiceResult) -> str | None:
        return str(DEMO_LABEL) if self.get_demo(result) else None

    def _file_urls(self, result: ServiceResult, kind: str, paths: list[str]) -> list[str]:
        request = self.context.get("request")
        urls = [reverse("service-result-file", args=[result.pk, kind, i]) for i in range(len(paths))]
        return [request.build_absolute_uri(u) for u in urls] if request is not None else urls

    def get_input_files(self, result: ServiceResult) -> list[str]:
        return self._file_urls(result, "input", result.input_files)

    def get_result_files(self, result: ServiceResult) -> list[str]:
        return self._file_urls(result, "result", result.result_files)

    def get_share_url(self, result: ServiceResult) -> str | None:
        if not result.is_public or not result.share_token:
            return None
        path = reverse("templates:shared", args=[result.share_token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class RateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    feedback = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ShareSerializer(serializers.Serializer):
    expires_in_days = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SHARE_DAYS, allow_null=True)
    max_views = serializers.IntegerField(required=False, min_value=1, max_value=MAX_VIEW_CAP, allow_null=True)


class SharedResultSerializer(serializers.Serializer):
    """Documentation of the public allowlist (sharing.public_view builds it)."""

    service = serializers.DictField()
    output_format = serializers.CharField()
    output = serializers.JSONField()
    created_at = serializers.DateField()


# --- staff ----------------------------------------------------------------------------------


class PromptTemplateSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)

    class Meta:
        model = PromptTemplate
        fields = [
            "id", "service_type", "version", "ai_model", "system_prompt", "user_prompt_template", "parameters",
            "output_format", "validation_schema", "temperature", "max_tokens", "description", "author",
            "is_active", "activated_at", "usage_count", "avg_tokens", "avg_response_time_ms", "created_by",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "is_active", "activated_at", "usage_count", "avg_tokens", "avg_response_time_ms",
                            "created_by", "created_at", "updated_at"]  # fmt: skip
        extra_kwargs = {"version": {"required": False}}
        # Uniqueness is the service's to report (409); DRF's own check would answer 400 first.
        validators: list = []


class TemplateWriteSerializer(serializers.Serializer):
    """Fields of a new version (all optional when copying one)."""

    ai_model = serializers.CharField(required=False, max_length=100)
    system_prompt = serializers.CharField(required=False, allow_blank=True)
    user_prompt_template = serializers.CharField(required=False)
    parameters = serializers.JSONField(required=False)
    output_format = serializers.ChoiceField(choices=OutputFormat.choices, required=False)
    validation_schema = serializers.JSONField(required=False, allow_null=True)
    temperature = serializers.DecimalField(max_digits=3, decimal_places=2, required=False)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=32000)
    description = serializers.CharField(required=False, allow_blank=True)
    author = serializers.CharField(required=False, allow_blank=True, max_length=100)


class TemplateCreateSerializer(TemplateWriteSerializer):
    service_type = serializers.SlugField(max_length=100)
    version = serializers.CharField(required=False, max_length=10)
    ai_model = serializers.CharField(max_length=100)
    user_prompt_template = serializers.CharField()


class RollbackSerializer(serializers.Serializer):
    service_type = serializers.SlugField(max_length=100)


class ArmSerializer(serializers.Serializer):
    arm = serializers.CharField()
    results = serializers.IntegerField()
    ratings = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    satisfied_rate = serializers.FloatField(allow_null=True)
    avg_rating = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)


class EvaluationSerializer(serializers.Serializer):
    a = ArmSerializer()
    b = ArmSerializer()
    z = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    winner = serializers.CharField(allow_null=True)
    verdict = serializers.CharField()
    rule = serializers.SerializerMethodField()

    def get_rule(self, evaluation) -> str:
        return WINNER_RULE


class ExperimentSerializer(serializers.ModelSerializer):
    template_a = serializers.PrimaryKeyRelatedField(queryset=PromptTemplate.objects.all())
    template_b = serializers.PrimaryKeyRelatedField(queryset=PromptTemplate.objects.all())
    version_a = serializers.CharField(source="template_a.version", read_only=True)
    version_b = serializers.CharField(source="template_b.version", read_only=True)
    evaluation = serializers.SerializerMethodField()

    class Meta:
        model = PromptExperiment
        fields = [
            "id", "name", "service_type", "template_a", "template_b", "version_a", "version_b", "traffic_split",
            "status", "version_a_count", "version_b_count", "version_a_avg_rating", "version_b_avg_rating",
            "started_at", "ended_at", "winner", "evaluation", "created_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "status", "version_a_count", "version_b_count", "version_a_avg_rating", "version_b_avg_rating",
            "started_at", "ended_at", "winner", "created_at",
        ]  # fmt: skip

    def get_evaluation(self, experiment) -> dict:
        return EvaluationSerializer(experiment_evaluate(experiment)).data
