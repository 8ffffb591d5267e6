"""What an agent does in the inbox besides handoff: read a conversation, answer it.

Answers go through `outbound.outgoing_create` like every other message (stored
pending, sent after commit, receipts update it), so the thread shows them as
the customer gets them. An agent answering a conversation the bot handles
takes it over first (`handoff.conversation_take_over`), so the bot never
answers over a human mid-conversation.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from accounts.events import publish_on_commit
from accounts.models import Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput
from channels_bot.models import Conversation, ConversationMessage
from channels_bot.rich import Outgoing
from channels_bot.services.handoff import conversation_take_over
from channels_bot.services.outbound import _window as window_check
from channels_bot.services.outbound import outgoing_create

AGENT_TEXT_MAX = 2000


def conversation_mark_read(*, conversation: Conversation, actor: Membership) -> Conversation:
    """The agent saw the thread: its unread count goes to 0 (viewers read too)."""
    if conversation.unread_count == 0:
        return conversation
    with account_context(conversation.account_id), transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        conversation.unread_count = 0
        publish_on_commit(
            conversation.account_id, "conversation.updated", {"id": str(conversation.pk), "unread_count": 0}
        )
    return conversation


def agent_message_send(*, conversation: Conversation, actor: Membership, text: str) -> ConversationMessage:
    """A human agent's answer; a conversation the bot handles is taken over first
    (the bot stays quiet from then on). Raises WindowClosed (409) when the platform
    no longer accepts messages to this customer, Conflict for an archived
    conversation; a refused answer takes nothing over."""
    if not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Viewers can read conversations but not answer them."))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(gettext("Write a message first."), fields={"text": ["This field may not be blank."]})
    if len(text) > AGENT_TEXT_MAX:
        raise InvalidInput(
            gettext("Messages are at most %(AGENT_TEXT_MAX)s characters.") % {"AGENT_TEXT_MAX": AGENT_TEXT_MAX},
            fields={"text": [f"Ensure this field has no more than {AGENT_TEXT_MAX} characters."]},
        )
    if conversation.status == Conversation.Status.ARCHIVED:
        raise Conflict(gettext("This conversation is archived."))
    if conversation.handler == Conversation.Handler.BOT:
        window_check(conversation, ConversationMessage.Sender.AGENT)
        # Its own transaction, then the platform handover (no transaction held over the network).
        conversation = conversation_take_over(conversation=conversation, actor=actor)
    with account_context(conversation.account_id), transaction.atomic():
        message = outgoing_create(
            conversation=conversation, outgoing=Outgoing(text=text),
            sender_type=ConversationMessage.Sender.AGENT, sent_by=actor.user,
        )  # fmt: skip
        publish_on_commit(
            conversation.account_id, "conversation.message",
            {"conversation_id": str(conversation.pk), "message_id": str(message.pk), "sender_type": "AGENT"},
        )  # fmt: skip
    return message
