"""Beat sweeps enqueue again what a lost Celery message left waiting: the bot's
answer to a customer message, the send of an outbound message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage
from channels_bot.services.sweeps import pending_sends, unanswered_messages
from channels_bot.tasks import bot as bot_tasks
from channels_bot.tasks import outbound as outbound_tasks
from tests.channels_bot.factories import ConversationMessageFactory, open_conversation

pytestmark = pytest.mark.django_db


def _ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def _customer_message(conversation, minutes_ago: float, **kwargs):
    return ConversationMessageFactory(conversation=conversation, timestamp=_ago(minutes=minutes_ago), **kwargs)


def test_a_customer_message_left_unanswered_is_found_once_its_task_is_overdue(tenants):
    # given a message of 5 minutes ago with no answer, one just now, one answered, one too old
    conversation = open_conversation(tenants.a)
    lost = _customer_message(conversation, 5)
    _customer_message(conversation, 0.5)
    answered = _customer_message(conversation, 6)
    ConversationMessageFactory(
        conversation=conversation, sender_type="BOT", reply_to=answered, platform_message_id="", delivery_state="sent"
    )
    _customer_message(conversation, 45)

    # when / then
    assert unanswered_messages() == [(str(tenants.a.id), str(lost.pk))]


@pytest.mark.parametrize(
    "change",
    [{"handler": Conversation.Handler.HUMAN}, {"needs_human": True}, {"status": Conversation.Status.CLOSED_BY_AGENT}],
)
def test_conversations_the_bot_must_not_answer_are_left_alone(tenants, change):
    conversation = open_conversation(tenants.a, **change)
    _customer_message(conversation, 5)

    assert unanswered_messages() == []


def test_a_paused_channel_is_left_alone(tenants):
    conversation = open_conversation(tenants.a)
    _customer_message(conversation, 5)
    with account_context(tenants.a.id):
        ConnectedChannel.objects.filter(pk=conversation.channel_id).update(is_active=False)

    assert unanswered_messages() == []


def test_the_answers_sweep_enqueues_each_lost_answer(tenants, monkeypatch):
    conversation = open_conversation(tenants.a)
    lost = _customer_message(conversation, 3)
    enqueued = []
    monkeypatch.setattr(bot_tasks.answer_message, "delay", lambda **kw: enqueued.append(kw))

    assert bot_tasks.answers_sweep() == 1
    assert enqueued == [{"account_id": str(tenants.a.id), "message_id": str(lost.pk)}]


def test_an_outbound_message_pending_past_its_retries_is_sent_again(tenants, monkeypatch):
    # given a bot message pending for 20 minutes, one pending for a minute, one sent
    conversation = open_conversation(tenants.a)

    def outbound(minutes_ago, state):
        return ConversationMessageFactory(
            conversation=conversation, sender_type=ConversationMessage.Sender.BOT, delivery_state=state,
            platform_message_id="", timestamp=_ago(minutes=minutes_ago),
        )  # fmt: skip

    stuck = outbound(20, ConversationMessage.Delivery.PENDING)
    outbound(1, ConversationMessage.Delivery.PENDING)
    outbound(20, ConversationMessage.Delivery.SENT)
    enqueued = []
    monkeypatch.setattr(outbound_tasks.message_send, "delay", lambda **kw: enqueued.append(kw))

    # when
    count = outbound_tasks.sends_sweep()

    # then
    assert pending_sends()[0] == (str(tenants.a.id), str(stuck.pk))
    assert (count, enqueued) == (1, [{"account_id": str(tenants.a.id), "message_id": str(stuck.pk)}])
