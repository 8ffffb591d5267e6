"""Chat sessions with personas and their messages (seed 000 `chat_sessions`,
`messages`).

A session belongs to one user of one account (seed 000: users see only their
own chats): the account is the row-level-security tenant, the user narrows every
selector. Messages form a tree through `parent`: editing an earlier user message
adds a sibling (a new branch) and regenerating an answer adds a sibling bot
message; `ChatSession.active_leaf` says which branch is shown, and the old
branches stay reachable through their parents.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from billing.models.fields import credit_field


class ChatSession(TenantModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # SET_NULL: deleting a persona keeps its conversations readable (they can no longer continue).
    persona = models.ForeignKey("personas.Persona", on_delete=models.SET_NULL, null=True, related_name="+")
    title = models.CharField(max_length=120, blank=True)
    is_favorite = models.BooleanField(default=False)
    active_leaf = models.ForeignKey(
        "chats.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text=_("Last message of the branch shown; empty before the first message."),
    )  # fmt: skip
    last_active = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The sidebar: one user's sessions, favorites first, then by last activity.
            models.Index(
                F("account"), F("user"), F("is_favorite").desc(), F("last_active").desc(), name="chats_session_sidebar"
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return self.title or "New chat"


class Message(TenantModel):
    class Sender(models.TextChoices):
        USER = "user", _("User")
        BOT = "bot", _("Bot")
        SYSTEM = "system", _("System")

    class Status(models.TextChoices):
        STREAMING = "streaming", _("Streaming")
        COMPLETE = "complete", _("Complete")
        STOPPED = "stopped", _("Stopped")
        ERROR = "error", _("Error")

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    sender = models.CharField(max_length=10, choices=Sender.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETE)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    model = models.CharField(max_length=100, blank=True, help_text=_("Registry name of the model that answered."))
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    # Seed 000 `tokens_used`: what the answer cost in tokens, prompt and completion.
    tokens_used = models.GeneratedField(
        expression=F("tokens_in") + F("tokens_out"), output_field=models.PositiveIntegerField(), db_persist=True
    )
    credits_charged = credit_field(default=0)
    citations = models.JSONField(default=list, blank=True)
    # The credits held for this answer while it streams (billing Reservation id);
    # the orphan sweep settles or releases it.
    reservation_id = models.UUIDField(null=True, blank=True)
    # Not auto_now_add: a question and its answer are inserted together, the answer a
    # microsecond later, so "oldest first" never depends on a clock tie.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["session", "created_at"], name="chats_message_session"),
            # The orphan sweep looks for answers still streaming.
            models.Index(fields=["created_at"], condition=models.Q(status="streaming"), name="chats_message_streaming"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="streaming") | models.Q(sender="bot"), name="chats_only_bots_stream"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.content[:40]}"

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.STREAMING
