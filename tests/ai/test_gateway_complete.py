"""gateway.complete against the loopback OpenAI-compatible server: the answer, the
usage the provider reports, the usage record, and charging."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiplatform.ai import gateway
from aiplatform.ai.errors import ModelUnavailable
from aiplatform.ai.types import ChatMessage
from aiplatform.errors import InsufficientCredits, InvalidInput
from billing.services.controls import AiShutoff, shutoff_engage
from billing.services.ledger import Reference
from tests.ai.conftest import balance, usage_rows, use_rows

pytestmark = pytest.mark.django_db

QUESTION = [ChatMessage("system", "Be brief."), ChatMessage("user", "What is two plus two?")]


def test_completion_returns_the_answer_and_the_reported_usage(payer, chat_model, model_server):
    # given
    model_server.reply("Four, obviously.", usage={"prompt_tokens": 1200, "completion_tokens": 300})
    # when
    done = gateway.complete(account=payer.account, user=payer.user, model="test-model", messages=QUESTION,
                            feature="chat", temperature=0.2, max_tokens=50)  # fmt: skip
    # then
    assert done.text == "Four, obviously."
    assert (done.model, done.provider, done.finish_reason) == ("test-model", "openai", "stop")
    assert (done.usage.tokens_in, done.usage.tokens_out, done.usage.estimated) == (1200, 300, False)
    assert done.price == Decimal("1.8000")  # 1200 x 1/1k + 300 x 2/1k
    assert done.provider_cost == Decimal("0.000360")  # 1200 x $0.15/M + 300 x $0.60/M
    assert done.credits == Decimal("0")  # not charged
    sent = model_server.requests[0]
    assert sent["model"] == "loopback-1" and sent["temperature"] == 0.2 and sent["max_tokens"] == 50
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "What is two plus two?"}]  # fmt: skip
    assert "stream" not in sent and "response_format" not in sent
    assert model_server.received[0].headers["authorization"] == "Bearer test-key"


def test_every_completion_writes_one_usage_record(payer, chat_model, model_server):
    # given
    model_server.reply("Four.", usage={"prompt_tokens": 1200, "completion_tokens": 300})
    # when
    done = gateway.complete(account=payer.account, user=payer.user, model="test-model", messages=QUESTION,
                            feature="chat", reference=Reference("message", "m-1"))  # fmt: skip
    # then
    [record] = usage_rows(payer.account)
    assert record.id == done.usage_record_id
    assert (record.feature, record.model, record.provider, record.status) == ("chat", "test-model", "openai", "ok")
    assert (record.tokens_in, record.tokens_out) == (1200, 300)
    assert record.provider_cost == Decimal("0.000360")
    assert record.credits == Decimal("0")  # nothing was taken from the account
    assert (record.reference_type, record.reference_id) == ("message", "m-1")
    assert record.user_id == payer.user.pk and record.error == ""
    assert 0 <= record.latency_ms < 5000
    assert use_rows(payer.account) == []


def test_charge_debits_the_priced_credits_once_with_a_ledger_row(payer, chat_model, model_server):
    # given
    model_server.reply("Four.", usage={"prompt_tokens": 1200, "completion_tokens": 300})
    # when
    done = gateway.complete(account=payer.account, user=payer.user, model="test-model", messages=QUESTION,
                            feature="chat", charge=True, reference=Reference("message", "m-2"))  # fmt: skip
    # then
    assert done.credits == done.price == Decimal("1.8000")
    assert balance(payer.account) == Decimal("98.2000")
    [debit] = use_rows(payer.account)
    assert debit.amount == Decimal("-1.8000") and debit.balance_after == Decimal("98.2000")
    assert (debit.reference_type, debit.reference_id, debit.actor_id) == ("message", "m-2", payer.user.pk)
    assert "test-model: 1200 tokens in, 300 out (chat)" == debit.description
    [record] = usage_rows(payer.account)
    assert record.credits == Decimal("1.8000")


def test_charged_by_the_caller_is_recorded_and_nothing_is_debited(payer, chat_model, model_server):
    # when a service charged its fixed price itself
    done = gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="service",
                            charged=Decimal("5"))  # fmt: skip
    # then
    assert done.credits == Decimal("0")
    assert balance(payer.account) == Decimal("100.0000")
    assert use_rows(payer.account) == []
    [record] = usage_rows(payer.account)
    assert record.credits == Decimal("5.0000") and record.feature == "service"


def test_charge_without_enough_credits_records_the_call_and_raises_402(tenants, chat_model, model_server):
    # given an empty wallet
    model_server.reply("Four.", usage={"prompt_tokens": 1200, "completion_tokens": 300})
    # when
    with pytest.raises(InsufficientCredits):
        gateway.complete(account=tenants.a, model="test-model", messages=QUESTION, feature="chat", charge=True)
    # then the call is on record, uncharged
    [record] = usage_rows(tenants.a)
    assert record.status == "ok" and record.credits == Decimal("0")
    assert record.error.startswith("not charged: Not enough credits")
    assert use_rows(tenants.a) == []


def test_dict_messages_are_accepted(payer, chat_model, model_server):
    done = gateway.complete(account=payer.account, model="test-model", feature="chat",
                            messages=[{"role": "user", "content": "ping pong"}])  # fmt: skip
    assert done.text == "Echo: ping pong"


def test_without_reported_usage_the_documented_estimate_is_used_and_marked(payer, chat_model, model_server):
    # given a provider that reports no usage
    model_server.reply("Four, obviously.", usage=False)
    # when
    done = gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="chat",
                            charge=True)  # fmt: skip
    # then ceil(chars/4) + 4 per message in, ceil(chars/4) out
    assert done.usage.estimated is True
    assert done.usage.tokens_in == (3 + 4) + (6 + 4)  # "Be brief." 9 chars, "What is two plus two?" 21 chars
    assert done.usage.tokens_out == 4  # "Four, obviously." 16 chars
    assert done.credits == Decimal("0.0250")  # (17 x 1 + 4 x 2) / 1000
    [record] = usage_rows(payer.account)
    assert (record.tokens_in, record.tokens_out, record.credits) == (17, 4, Decimal("0.0250"))


def test_json_schema_is_sent_as_response_format(payer, chat_model, model_server):
    schema = {"title": "Plan summary", "type": "object", "properties": {"x": {"type": "string"}}}
    model_server.reply('{"x": "y"}')
    gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="service",
                     json_schema=schema)  # fmt: skip
    gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="service",
                     json_output=True)  # fmt: skip
    with_schema, json_only = model_server.requests
    assert with_schema["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "Plan_summary", "schema": schema, "strict": False},
    }  # fmt: skip
    assert json_only["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("enabled", [True, False])
def test_unknown_or_disabled_models_are_a_400_and_nothing_is_called(payer, chat_model, model_server, enabled):
    # given
    chat_model.enabled = enabled
    chat_model.save()
    name = "no-such-model" if enabled else "test-model"
    # when
    with pytest.raises(ModelUnavailable) as err:
        gateway.complete(account=payer.account, model=name, messages=QUESTION, feature="chat")
    # then
    assert err.value.status == 400 and err.value.code == "unknown_model"
    assert f"'{name}' is not available" in err.value.message
    assert model_server.requests == [] and usage_rows(payer.account) == []


def test_a_model_disabled_in_the_admin_stops_at_once(payer, chat_model, model_server):
    # given a cached entry
    gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="chat")
    # when an operator disables it
    chat_model.enabled = False
    chat_model.save()
    # then the next call is refused without reaching the provider
    with pytest.raises(ModelUnavailable):
        gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="chat")
    assert len(model_server.requests) == 1


def test_a_shut_off_account_is_refused_before_any_request(tenants, payer, chat_model, model_server):
    # given
    shutoff_engage(account=payer.account, actor=tenants.alice_membership, reason="runaway costs")
    # when
    with pytest.raises(AiShutoff) as err:
        gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="chat", charge=True)
    with pytest.raises(AiShutoff):
        gateway.stream(account=payer.account, model="test-model", messages=QUESTION, feature="chat")
    # then
    assert err.value.status == 403
    assert model_server.requests == []
    assert usage_rows(payer.account) == [] and balance(payer.account) == Decimal("100.0000")


def test_a_conversation_beyond_the_context_window_is_refused(payer, chat_model, model_server):
    chat_model.context_window = 50
    chat_model.save()
    with pytest.raises(InvalidInput) as err:
        gateway.complete(account=payer.account, model="test-model", feature="chat",
                         messages=[ChatMessage("user", "word " * 100)])  # fmt: skip
    assert err.value.code == "context_too_long" and err.value.status == 400
    assert model_server.requests == []
