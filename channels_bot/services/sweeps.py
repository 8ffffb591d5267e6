"""Sweeps that make lost Celery messages visible work again (run by beat).

Inbound processing enqueues one answer per new customer message, and every
outbound message one send, after commit; a broker outage or a killed worker
at that moment would lose the task. These sweeps find what is still waiting
and enqueue it again: the answer and the send are both idempotent (one bot
answer per customer message by constraint, one send per pending message by
its claim), so a second enqueue is harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.tenancy.context import rls_bypass
from channels_bot.models import Conversation, ConversationMessage

BATCH = 200
# An answer is normally enqueued at once: after this long without one, it was lost.
ANSWER_LOST_AFTER = timedelta(minutes=2)
# Older than this, the conversation has moved on: an agent sees it in the inbox instead.
ANSWER_GIVE_UP_AFTER = timedelta(minutes=30)
# Longer than the send task's own retries with backoff take (CHANNELS_SEND_MAX_RETRIES).
SEND_LOST_AFTER = timedelta(minutes=10)


def unanswered_messages(now: datetime | None = None) -> list[tuple[str, str]]:
    """(account id, message id) of customer messages the bot should have answered."""
    now = now or timezone.now()
    answered = ConversationMessage.objects.filter(reply_to=OuterRef("pk"), sender_type=ConversationMessage.Sender.BOT)
    with rls_bypass("channel bot sweep: customer messages left unanswered"):
        rows = (
            ConversationMessage.objects.filter(
                sender_type=ConversationMessage.Sender.CUSTOMER,
                timestamp__lt=now - ANSWER_LOST_AFTER,
                timestamp__gte=now - ANSWER_GIVE_UP_AFTER,
                conversation__handler=Conversation.Handler.BOT,
                conversation__needs_human=False,
                conversation__status=Conversation.Status.OPEN,
                channel__is_active=True,
            )
            .exclude(Exists(answered))
            .order_by("timestamp")
            .values_list("account_id", "pk")[:BATCH]
        )
        return [(str(account), str(pk)) for account, pk in rows]


def pending_sends(now: datetime | None = None) -> list[tuple[str, str]]:
    """(account id, message id) of outbound messages still waiting to be sent."""
    now = now or timezone.now()
    window = timedelta(days=settings.CHANNELS_AGENT_WINDOW_DAYS)
    with rls_bypass("channel bot sweep: outbound messages never sent"):
        rows = (
            ConversationMessage.objects.filter(
                delivery_state=ConversationMessage.Delivery.PENDING,
                sender_type__in=[ConversationMessage.Sender.BOT, ConversationMessage.Sender.AGENT],
                timestamp__lt=now - SEND_LOST_AFTER,
                timestamp__gte=now - window,
            )
            .order_by("timestamp")
            .values_list("account_id", "pk")[:BATCH]
        )
        return [(str(account), str(pk)) for account, pk in rows]
