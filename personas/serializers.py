"""API shapes of personas. The output omits `system_prompt` unless the caller may
edit the persona (rules.persona_can_see_prompt); the view passes the membership."""

from __future__ import annotations

from rest_framework import serializers

from .models import Persona
from .rules import persona_can_edit
from .selectors import SCOPES
from .services import MAX_PERSONA_UNITS


class ModelConfigSerializer(serializers.Serializer):
    model = serializers.CharField()
    temperature = serializers.FloatField()
    max_tokens = serializers.IntegerField()


class PersonaSerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField()
    initials = serializers.CharField(read_only=True)
    model_config = ModelConfigSerializer(read_only=True)
    can_edit = serializers.SerializerMethodField()
    system_prompt = serializers.CharField(
        read_only=True, required=False, help_text="Present only for those who may edit the persona."
    )

    class Meta:
        model = Persona
        fields = [
            "id", "name", "role_title", "icon_url", "initials", "scope", "is_public", "model_config", "can_edit",
            "system_prompt", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_scope(self, persona: Persona) -> str:
        return "platform" if persona.account_id is None else "account"

    def get_can_edit(self, persona: Persona) -> bool:
        return persona_can_edit(persona, self.context.get("membership"))

    def to_representation(self, persona: Persona) -> dict:
        data = super().to_representation(persona)
        if not data["can_edit"]:
            # Not even the key: a client cannot tell an empty prompt from a hidden one.
            data.pop("system_prompt")
        return data


class PersonaWriteSerializer(serializers.Serializer):
    """Shape only: values are validated by the services, like the editor's form."""

    name = serializers.CharField(max_length=100, allow_blank=True)
    role_title = serializers.CharField(max_length=120, allow_blank=True)
    system_prompt = serializers.CharField(allow_blank=True, trim_whitespace=False)
    model_config = serializers.JSONField()
    icon_url = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")


class PersonaQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=SCOPES, required=False)
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)


class PersonaUnitSerializer(serializers.Serializer):
    """A decision unit the persona reads, in brief (the full unit is at /api/v1/decision-units/<id>/)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.CharField()
    document_count = serializers.IntegerField()
    chunk_count = serializers.IntegerField()


class PersonaKnowledgeSerializer(serializers.Serializer):
    decision_units = PersonaUnitSerializer(many=True)


class PersonaKnowledgeWriteSerializer(serializers.Serializer):
    decision_units = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=MAX_PERSONA_UNITS,
        help_text="Ids of the active account's decision units; replaces the set. Duplicates count once.",
    )

    def validate_decision_units(self, value: list) -> list:
        return list(dict.fromkeys(value))
