"""Who answers a conversation: the bot, or a human agent.

A human takes over from the inbox (`conversation_take_over`) or by replying in
the platform's own inbox (an echo that is not ours: `via="platform_inbox"`).
On Messenger the thread is also passed to the Page Inbox with the handover
protocol, and taken back when the bot resumes; a platform error there is
logged and does not undo the handoff (the bot stays quiet either way).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext

from accounts.events import publish_on_commit
from accounts.models import Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden
from channels_bot.models import Conversation

log = logging.getLogger("channels_bot.handoff")

VIA_INBOX = "inbox"
VIA_PLATFORM_INBOX = "platform_inbox"


def _require_member(actor: Membership | None) -> None:
    if actor is not None and not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Viewers can read conversations but not answer them."))


def _handover(conversation: Conversation, take_back: bool) -> None:
    from channels_bot.platforms import client_for
    from channels_bot.platforms.base import PlatformError

    channel, recipient = conversation.channel, conversation.customer.platform_customer_id
    try:
        client = client_for(channel)
        if take_back:
            client.take_thread_back(channel, recipient)
        else:
            client.pass_thread_to_inbox(channel, recipient)
    except PlatformError as exc:
        log.warning("handover on %s failed: %s", channel.pk, exc.message)


def _changed(conversation: Conversation, **fields) -> Conversation:
    for name, value in fields.items():
        setattr(conversation, name, value)
    conversation.save(update_fields=list(fields))
    publish_on_commit(
        conversation.account_id, "conversation.updated",
        {"id": str(conversation.pk), **{k: (str(v.pk) if hasattr(v, "pk") else v) for k, v in fields.items()}},
    )  # fmt: skip
    return conversation


def conversation_take_over(
    *, conversation: Conversation, actor: Membership | None, via: str = VIA_INBOX
) -> Conversation:
    """A human answers from now on; the bot stays quiet in this conversation."""
    _require_member(actor)
    with account_context(conversation.account_id), transaction.atomic():
        if conversation.handler == Conversation.Handler.HUMAN and via == VIA_PLATFORM_INBOX:
            return conversation
        _changed(
            conversation, handler=Conversation.Handler.HUMAN, needs_human=False, status=Conversation.Status.OPEN,
            assigned_to=actor.user if actor else conversation.assigned_to,
        )  # fmt: skip
    if via == VIA_INBOX:
        _handover(conversation, take_back=False)
    return conversation


def conversation_give_back(*, conversation: Conversation, actor: Membership) -> Conversation:
    """The bot answers again (the next customer message)."""
    _require_member(actor)
    with account_context(conversation.account_id), transaction.atomic():
        _changed(conversation, handler=Conversation.Handler.BOT, needs_human=False, assigned_to=None)
    _handover(conversation, take_back=True)
    return conversation


def conversation_flag_for_human(*, conversation: Conversation, reason: str) -> Conversation:
    """The bot could not help (no credits, an error, the customer asked for a person)."""
    log.info("conversation %s needs a human: %s", conversation.pk, reason)
    with account_context(conversation.account_id), transaction.atomic():
        return _changed(conversation, needs_human=True)


def conversation_close(*, conversation: Conversation, actor: Membership | None) -> Conversation:
    """Closed by an agent (actor) or by the bot (None); the next customer message reopens it."""
    _require_member(actor)
    if conversation.status == Conversation.Status.ARCHIVED:
        raise Conflict(gettext("This conversation is archived."))
    status = Conversation.Status.CLOSED_BY_AGENT if actor else Conversation.Status.CLOSED_BY_BOT
    with account_context(conversation.account_id), transaction.atomic():
        return _changed(conversation, status=status, needs_human=False)


def conversation_archive(*, conversation: Conversation, actor: Membership) -> Conversation:
    _require_member(actor)
    with account_context(conversation.account_id), transaction.atomic():
        return _changed(conversation, status=Conversation.Status.ARCHIVED, needs_human=False)
