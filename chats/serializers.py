"""Payloads of chats: one shape for a message in websocket frames, SSE events,
the REST API and the page's initial data; DRF serializers for input and for
the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .models import ChatSession, Message
from .selectors import BranchMessage
from .services.streaming import credits_text


def message_dict(message: Message, siblings: list[str] | None = None) -> dict[str, Any]:
    data = {
        "id": str(message.pk),
        "session_id": str(message.session_id),
        "parent_id": str(message.parent_id) if message.parent_id else None,
        "sender": message.sender,
        "content": message.content,
        "status": message.status,
        "error": {"code": message.error_code, "message": message.error_message} if message.error_code else None,
        "model": message.model,
        "tokens_in": message.tokens_in,
        "tokens_out": message.tokens_out,
        "tokens_used": message.tokens_in + message.tokens_out,
        "credits": credits_text(message.credits_charged),
        "citations": message.citations,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "completed_at": message.completed_at.isoformat() if message.completed_at else None,
    }
    if siblings is not None:
        data["siblings"] = siblings
    return data


def branch_dicts(branch: list[BranchMessage]) -> list[dict[str, Any]]:
    return [message_dict(b.message, b.siblings) for b in branch]


def session_dict(session: ChatSession) -> dict[str, Any]:
    persona = session.persona
    return {
        "id": str(session.pk),
        "title": session.title,
        "is_favorite": session.is_favorite,
        "persona": {"id": str(persona.pk), "name": persona.name, "role_title": persona.role_title}
        if persona is not None
        else None,
        "active_leaf_id": str(session.active_leaf_id) if session.active_leaf_id else None,
        "last_active": session.last_active.isoformat(),
        "created_at": session.created_at.isoformat(),
    }


# --- DRF (input, and the schema of the output) -------------------------------------------------


class PersonaBriefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    role_title = serializers.CharField()


class ChatSessionSerializer(serializers.ModelSerializer):
    persona = PersonaBriefSerializer(read_only=True, allow_null=True)
    persona_id = serializers.UUIDField(write_only=True)

    class Meta:
        model = ChatSession
        fields = ["id", "title", "is_favorite", "persona", "persona_id", "active_leaf_id", "last_active",
                  "created_at"]  # fmt: skip
        read_only_fields = ["id", "persona", "active_leaf_id", "last_active", "created_at"]


class ChatSessionUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, allow_blank=True, required=False)
    is_favorite = serializers.BooleanField(required=False)


class MessageErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    """Documents `message_dict` (messages are written by services only)."""

    id = serializers.UUIDField()
    session_id = serializers.UUIDField()
    parent_id = serializers.UUIDField(allow_null=True)
    sender = serializers.ChoiceField(choices=Message.Sender.choices)
    content = serializers.CharField()
    status = serializers.ChoiceField(choices=Message.Status.choices)
    error = MessageErrorSerializer(allow_null=True)
    model = serializers.CharField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    tokens_used = serializers.IntegerField()
    credits = serializers.DecimalField(max_digits=18, decimal_places=4)
    citations = serializers.ListField(child=serializers.DictField())
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    siblings = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        help_text="Alternatives on this branch point (edits, regenerations), oldest first.",
    )


class SendSerializer(serializers.Serializer):
    content = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False)
    edit_of = serializers.UUIDField(
        required=False, allow_null=True, help_text="Your earlier message this one replaces (a new branch from there)."
    )
    regenerate = serializers.UUIDField(
        required=False, allow_null=True, help_text="An answer (or your message) to answer again, as a new branch."
    )


class BranchSerializer(serializers.Serializer):
    message_id = serializers.UUIDField(help_text="Show the branch through this message.")
