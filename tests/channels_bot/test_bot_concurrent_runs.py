"""Two workers answer the same customer message at the same moment (a redelivered
task): real threads, real connections and commits, the loopback model server
slowed so both calls are in flight together. One answer is stored and sent, and
the account is charged once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections

from accounts.tenancy.context import account_context
from billing.models import CreditTransaction, Reservation
from billing.services.ledger import wallet_for
from billing.services.subscriptions import subscription_for
from channels_bot.models import ConversationMessage
from channels_bot.services.bot import bot_answer
from tests.billing.factories import PlanFactory, fund
from tests.channels_bot.factories import ConversationMessageFactory, ProductFactory, open_conversation, record_sends

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_runs_store_one_answer_and_charge_once(tenants, chat_model, settings, model_server,
                                                              monkeypatch):  # fmt: skip
    # given
    PlanFactory(code="free")  # a transactional test before this one may have flushed the seeded plans
    settings.CHANNELS_BOT_MODEL = "test-model"
    settings.AI_MAX_RETRIES = 0
    sent = record_sends(monkeypatch)
    conversation = open_conversation(tenants.a)
    ProductFactory(account=tenants.a, name="Blue Mug", price=Decimal("12.50"))
    message = ConversationMessageFactory(conversation=conversation, content="Is the blue mug dishwasher safe?")
    subscription_for(tenants.a)  # the free plan's grant, before the balance is read
    fund(tenants.a, "100")
    before = wallet_for(tenants.a).balance
    model_server.reply("Yes, it is.", times=3)
    model_server.slow(first_token_delay=0.5)
    barrier = threading.Barrier(2, timeout=30)

    def run(_):
        try:
            connection.ensure_connection()
            barrier.wait()
            return bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, range(2)))

    # then
    stored = [r for r in results if r is not None]
    with account_context(tenants.a.id):
        answers = list(ConversationMessage.objects.filter(reply_to=message).values_list("content", flat=True))
        charges = list(
            CreditTransaction.objects.filter(account=tenants.a, reference_type="channel_message").values_list(
                "amount", flat=True
            )
        )
        holds = list(Reservation.objects.filter(account=tenants.a).values_list("status", flat=True))
    assert len(stored) == 1
    assert answers == ["Yes, it is."]
    assert len(charges) == 1
    assert holds == ["settled"]
    assert wallet_for(tenants.a).balance == before + charges[0]
    assert wallet_for(tenants.a).reserved == Decimal("0")
    assert sent == [stored[0].pk]
