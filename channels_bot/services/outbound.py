"""Everything the platform sends to a customer goes through here.

`outgoing_create` stores the message (state `pending`) and schedules its send
after commit; `message_deliver` (run by the `message_send` task) performs one
send through the channel's platform client and records the outcome. The bot,
order notifications and agent replies all use the same path, so the inbox
shows every message as the customer got it.

Windows (Meta's messaging policy, the same rule applied to every platform):
the bot answers within CHANNELS_BOT_WINDOW_HOURS of the customer's last
message; a human agent may answer within CHANNELS_AGENT_WINDOW_DAYS with the
HUMAN_AGENT tag where the app has that permission. Outside them the send is
refused with `window_closed` before anything is stored.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict
from channels_bot.models import Conversation, ConversationMessage
from channels_bot.rich import Outgoing


class WindowClosed(Conflict):
    code = "window_closed"


def _window(conversation: Conversation, sender_type: str) -> bool:
    """True when the message must go with the HUMAN_AGENT tag; raises when no window is open."""
    last = conversation.last_customer_message_at
    now = timezone.now()
    if last is None:
        raise WindowClosed(
            gettext("This customer has not written yet: platforms only allow answers to a customer's message.")
        )
    if now - last <= timedelta(hours=settings.CHANNELS_BOT_WINDOW_HOURS):
        return False
    agent_window = timedelta(days=settings.CHANNELS_AGENT_WINDOW_DAYS)
    if sender_type == ConversationMessage.Sender.AGENT and settings.META_HUMAN_AGENT_TAG and now - last <= agent_window:
        return True
    raise WindowClosed(
        gettext(
            "The customer last wrote more than %(hours)s hours ago: the platform no longer "
            "accepts messages to them until they write again."
        )
        % {"hours": settings.CHANNELS_BOT_WINDOW_HOURS}
    )


def outgoing_create(
    *,
    conversation: Conversation,
    outgoing: Outgoing,
    sender_type: str,
    sent_by=None,
    reply_to: ConversationMessage | None = None,
    credits: Decimal = Decimal("0"),
) -> ConversationMessage:
    """Store one outbound message and send it after commit. Raises WindowClosed."""
    tagged = _window(conversation, sender_type)
    with account_context(conversation.account_id):
        message = ConversationMessage.objects.create(
            account=conversation.account,
            conversation=conversation,
            channel_id=conversation.channel_id,
            sender_type=sender_type,
            content_type=outgoing.content_type,
            content=outgoing.text or outgoing.as_numbered_text(),
            payload={**outgoing.as_payload(), **({"human_agent_tag": True} if tagged else {})},
            delivery_state=ConversationMessage.Delivery.PENDING,
            reply_to=reply_to,
            sent_by=sent_by,
            credits_charged=credits,
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.timestamp)
        message_enqueue(message)
    return message


def message_enqueue(message: ConversationMessage) -> None:
    from channels_bot.tasks.outbound import message_send

    account_id, message_id = str(message.account_id), str(message.pk)
    transaction.on_commit(lambda: message_send.delay(account_id=account_id, message_id=message_id))
