"""The bot's AI answer: persona, catalog, credits held and settled once, polite hand-over on failures.

The model is the loopback OpenAI-compatible server (tests/support/model_server.py)
behind the registry entry "test-model" (1 credit per 1k tokens in, 2 per 1k out).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from accounts.actors import system_actor
from accounts.tenancy.context import account_context
from aiplatform.ai.pricing import credits_for
from aiplatform.ai.registry import model_entry
from billing.models import CreditTransaction, Reservation, UsageRecord
from billing.services.controls import shutoff_engage
from billing.services.ledger import wallet_for
from billing.services.subscriptions import subscription_for
from channels_bot.models import Conversation, ConversationMessage
from channels_bot.services import bot
from channels_bot.services.bot import POLITE_HANDOFF, BotAnswerRetry, bot_answer
from tests.billing.factories import fund, spend
from tests.channels_bot.factories import ConversationMessageFactory, ProductFactory, open_conversation, record_sends
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db

ANSWER = "Yes! The Blue Mug is 12.50 USD."


@pytest.fixture
def sent(monkeypatch):
    return record_sends(monkeypatch)


@pytest.fixture
def shop(tenants, chat_model, settings):
    settings.AI_RETRY_BACKOFF = 0.01
    settings.AI_MAX_RETRIES = 0
    persona = PersonaFactory(account=tenants.a, system_prompt="You are Mia, the cheerful helper of Mug House.",
                             model_config={"model": "test-model"})  # fmt: skip
    conversation = open_conversation(tenants.a)
    with account_context(tenants.a.id):
        type(conversation.channel).objects.filter(pk=conversation.channel_id).update(persona=persona)
    conversation.channel.persona = persona
    mug = ProductFactory(account=tenants.a, name="Blue Mug", price=Decimal("12.50"), description="Ceramic, 300 ml")
    ProductFactory(account=tenants.a, name="Teapot", price=Decimal("30.00"), description="Cast iron")
    subscription_for(tenants.a)  # the free plan (and whatever it grants) before the test's own funds
    return conversation, mug


def _drain(account) -> None:
    balance = wallet_for(account).balance
    if balance > 0:
        spend(account, balance)


def _ask(conversation, text="Do you sell a blue mug?"):
    return ConversationMessageFactory(conversation=conversation, content=text)


def _use_rows(account):
    with account_context(account.id):
        rows = CreditTransaction.objects.filter(account=account, type="use", reference_type="channel_message")
        return list(rows.values_list("amount", flat=True))


def _bot_messages(conversation):
    with account_context(conversation.account_id):
        return list(
            ConversationMessage.objects.filter(conversation=conversation, sender_type="BOT")
            .order_by("timestamp")
            .values_list("content", "credits_charged")
        )


def _usage(account):
    with account_context(account.id):
        return list(UsageRecord.objects.filter(account=account).values_list("feature", "tokens_in", "tokens_out",
                                                                              "credits", "status"))  # fmt: skip


def test_an_answer_is_charged_through_a_reservation_and_carries_the_catalog(tenants, shop, sent, model_server):
    # given
    conversation, mug = shop
    _drain(tenants.a)
    fund(tenants.a, "100")
    model_server.reply(ANSWER)
    message = _ask(conversation)

    # when
    reply = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))

    # then: the model saw the persona and the matching products
    [request] = model_server.requests
    system = request["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You are Mia, the cheerful helper of Mug House.")
    assert "- Blue Mug — 12.50 USD: Ceramic, 300 ml" in system["content"]
    assert "Teapot" not in system["content"]
    assert request["messages"][-1] == {"role": "user", "content": "Do you sell a blue mug?"}
    # and the answer is charged the priced tokens, once, through a settled hold
    [(feature, tokens_in, tokens_out, credits, status)] = _usage(tenants.a)
    price = credits_for(model_entry("test-model"), tokens_in, tokens_out)
    assert (feature, tokens_out, credits, status) == ("channel_bot", 7, price, "ok")
    assert (tokens_in, price) == (69, Decimal("0.0830"))
    assert _use_rows(tenants.a) == [-price]
    assert wallet_for(tenants.a).balance == Decimal("100") - price
    assert wallet_for(tenants.a).reserved == Decimal("0")
    with account_context(tenants.a.id):
        hold = Reservation.objects.get(account=tenants.a)
    assert (hold.status, hold.amount, hold.reference_type, hold.reference_id) == (
        "settled", Decimal("3.8000"), "channel_message", str(message.pk),
    )  # fmt: skip
    # and the reply offers the matching product
    with account_context(tenants.a.id):
        reply.refresh_from_db()
    assert reply.content == ANSWER
    assert reply.reply_to_id == message.pk
    assert reply.credits_charged == price
    assert reply.payload["quick_replies"] == [{"title": "Blue Mug", "payload": f"PRODUCT:{mug.pk}"}]
    assert sent == [reply.pk]


def test_running_twice_answers_once_and_charges_once(tenants, shop, sent, model_server):
    # given
    conversation, _ = shop
    _drain(tenants.a)
    fund(tenants.a, "100")
    model_server.reply(ANSWER, times=2)
    message = _ask(conversation)

    # when
    first = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))
    second = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))

    # then
    assert first is not None and second is None
    assert len(model_server.requests) == 1
    assert [c for c, _ in _bot_messages(conversation)] == [ANSWER]
    assert len(_use_rows(tenants.a)) == 1
    assert sent == [first.pk]


def test_a_crash_between_charge_and_store_never_charges_twice(tenants, shop, sent, model_server, monkeypatch):
    # given: the first run dies after the gateway settled the hold, before the answer is stored
    conversation, _ = shop
    _drain(tenants.a)
    fund(tenants.a, "100")
    model_server.reply(ANSWER, times=2)
    message = _ask(conversation)
    store = bot._store_answer

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(bot, "_store_answer", crash)
    with pytest.raises(RuntimeError):
        bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))
    [charge] = _use_rows(tenants.a)
    monkeypatch.setattr(bot, "_store_answer", store)

    # when: the task runs again
    reply = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))

    # then: answered (regenerated), still one charge, recorded on the answer
    assert reply.content == ANSWER
    assert reply.credits_charged == -charge
    assert _use_rows(tenants.a) == [charge]
    assert wallet_for(tenants.a).balance == Decimal("100") + charge
    assert [r[3] for r in _usage(tenants.a)] == [-charge, Decimal("0")]
    assert sent == [reply.pk]


def test_out_of_credits_gets_the_polite_message_a_flag_no_charge_and_one_email(
    tenants, shop, sent, model_server, django_capture_on_commit_callbacks
):
    # given: an account without credits
    conversation, _ = shop
    _drain(tenants.a)

    # when: two customer messages
    with django_capture_on_commit_callbacks(execute=True):
        first = bot_answer(account_id=str(tenants.a.id), message_id=str(_ask(conversation).pk))
    with django_capture_on_commit_callbacks(execute=True):
        second = bot_answer(account_id=str(tenants.a.id), message_id=str(_ask(conversation, "hello?").pk))

    # then
    assert _bot_messages(conversation) == [(POLITE_HANDOFF, Decimal("0")), (POLITE_HANDOFF, Decimal("0"))]
    assert (first.content, second.content) == (POLITE_HANDOFF, POLITE_HANDOFF)
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).needs_human is True
        assert Reservation.objects.filter(account=tenants.a).count() == 0
    assert model_server.requests == []
    assert _use_rows(tenants.a) == []
    assert wallet_for(tenants.a).balance == Decimal("0")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert mail.outbox[0].subject.endswith("Your channel bot handed customers to your team")
    assert sent == [first.pk, second.pk]


def test_the_ai_shutoff_hands_over_without_calling_the_model(tenants, shop, sent, model_server):
    # given
    conversation, _ = shop
    _drain(tenants.a)
    fund(tenants.a, "100")
    shutoff_engage(account=tenants.a, actor=system_actor("test"), reason="budget")

    # when
    reply = bot_answer(account_id=str(tenants.a.id), message_id=str(_ask(conversation).pk))

    # then
    assert reply.content == POLITE_HANDOFF
    assert model_server.requests == []
    assert _use_rows(tenants.a) == []
    assert wallet_for(tenants.a).reserved == Decimal("0")


def test_a_provider_error_retries_later_with_nothing_stored_or_charged(tenants, shop, sent, model_server):
    # given
    conversation, _ = shop
    _drain(tenants.a)
    fund(tenants.a, "100")
    model_server.fail(500, times=1)
    model_server.reply(ANSWER)
    message = _ask(conversation)

    # when: the first attempt fails at the provider, with a retry left
    with pytest.raises(BotAnswerRetry):
        bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk), retries_left=1)

    # then: nothing stored, nothing charged, nothing held
    assert _bot_messages(conversation) == []
    assert _use_rows(tenants.a) == []
    assert wallet_for(tenants.a).reserved == Decimal("0")

    # when: the retry succeeds
    reply = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))

    # then: one answer, one charge
    assert reply.content == ANSWER
    assert len(_use_rows(tenants.a)) == 1
    assert sent == [reply.pk]


def test_a_provider_error_on_the_last_attempt_hands_over_once_uncharged(tenants, shop, sent, model_server):
    # given
    conversation, _ = shop
    _drain(tenants.a)
    fund(tenants.a, "100")
    model_server.fail(500, times=1)
    message = _ask(conversation)

    # when
    reply = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk), retries_left=0)
    again = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk), retries_left=0)

    # then
    assert (reply.content, again) == (POLITE_HANDOFF, None)
    assert _bot_messages(conversation) == [(POLITE_HANDOFF, Decimal("0"))]
    assert _use_rows(tenants.a) == []
    assert wallet_for(tenants.a).balance == Decimal("100")
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).needs_human is True


def test_no_persona_uses_the_neutral_shop_assistant(tenants, chat_model, settings, sent, model_server):
    # given
    settings.CHANNELS_BOT_MODEL = "test-model"
    conversation = open_conversation(tenants.a)
    subscription_for(tenants.a)
    _drain(tenants.a)
    fund(tenants.a, "100")
    model_server.reply("Hello!")

    # when
    reply = bot_answer(account_id=str(tenants.a.id), message_id=str(_ask(conversation, "What are your hours?").pk))

    # then
    system = model_server.requests[0]["messages"][0]["content"]
    assert system.startswith(bot.NEUTRAL_PROMPT)
    assert "No product in the catalog matches this message" in system
    assert (reply.content, reply.payload.get("quick_replies")) == ("Hello!", None)


def test_a_human_handled_conversation_is_not_answered_by_the_ai(tenants, shop, sent, model_server):
    # given
    conversation, _ = shop
    _drain(tenants.a)
    fund(tenants.a, "100")
    with account_context(tenants.a.id):
        Conversation.objects.filter(pk=conversation.pk).update(handler=Conversation.Handler.HUMAN)

    # when
    reply = bot_answer(account_id=str(tenants.a.id), message_id=str(_ask(conversation).pk))

    # then
    assert reply is None
    assert model_server.requests == []
    assert _use_rows(tenants.a) == []
    assert _bot_messages(conversation) == []


def test_the_task_answers_and_an_eager_run_hands_over_on_a_provider_error(tenants, shop, sent, model_server):
    # given
    from channels_bot.tasks.bot import answer_message

    conversation, _ = shop
    _drain(tenants.a)
    fund(tenants.a, "100")
    model_server.reply(ANSWER)
    ok, failing = _ask(conversation), _ask(conversation, "and a teapot?")

    # when
    answer_message.delay(account_id=str(tenants.a.id), message_id=str(ok.pk))
    model_server.fail(500, times=1)
    answer_message.delay(account_id=str(tenants.a.id), message_id=str(failing.pk))

    # then
    assert _bot_messages(conversation) == [(ANSWER, Decimal("0.0830")), (POLITE_HANDOFF, Decimal("0"))]
    assert len(_use_rows(tenants.a)) == 1


def test_the_personas_knowledge_is_in_the_prompt(tenants, shop, sent, model_server):
    # given the channel's persona reads a unit holding the returns policy (text search only)
    from personas.models import PersonaDecisionUnit
    from tests.knowledge import factories as kf

    conversation, _ = shop
    policy = "Returns are free within 30 days of delivery; keep the receipt."
    with account_context(tenants.a.id):
        unit = kf.DecisionUnitFactory(account=tenants.a, vector_weight=0, text_weight=1)
        kf.ChunkFactory(document=kf.DocumentFactory(unit=unit, name="policies.txt"), text=policy)
        PersonaDecisionUnit.objects.create(account=tenants.a, persona=conversation.channel.persona, decision_unit=unit)
    _drain(tenants.a)
    fund(tenants.a, "100")
    model_server.reply("Returns are free for 30 days.")

    # when
    bot_answer(account_id=str(tenants.a.id), message_id=str(_ask(conversation, "What is your returns policy?").pk))

    # then
    system = model_server.requests[0]["messages"][0]["content"]
    assert "What the business knows (use it when relevant):\n[1] " in system
    assert policy in system
