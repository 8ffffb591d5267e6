"""The Anthropic provider against the loopback server's /v1/messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiplatform.ai import gateway
from aiplatform.ai.errors import ProviderMisconfigured
from aiplatform.ai.models import AiModel
from aiplatform.ai.types import ChatMessage
from tests.ai.conftest import usage_rows
from tests.ai.factories import AiModelFactory

pytestmark = pytest.mark.django_db

CONVERSATION = [
    ChatMessage("system", "You are terse."),
    ChatMessage("user", "Hello there"),
    ChatMessage("user", "How are you?"),
]


@pytest.fixture
def claude(db, settings, model_server):
    settings.AI_ANTHROPIC_BASE_URL = model_server.base_url
    settings.AI_ANTHROPIC_API_KEY = "anthropic-test-key"
    return AiModelFactory(
        name="claude-test", provider=AiModel.Provider.ANTHROPIC, provider_model="claude-loop",
        max_output_tokens=2048, credits_in_per_1k=Decimal("3"), credits_out_per_1k=Decimal("15"),
    )  # fmt: skip


def test_complete_speaks_the_messages_api(payer, claude, model_server):
    # given
    model_server.reply("Fine, thanks.")
    # when
    done = gateway.complete(account=payer.account, model="claude-test", messages=CONVERSATION, feature="chat",
                            temperature=0.5, charge=True)  # fmt: skip
    # then the request has Anthropic's shape
    [received] = model_server.received
    assert received.path == "/v1/messages"
    assert received.headers["x-api-key"] == "anthropic-test-key"
    assert received.headers["anthropic-version"] == "2023-06-01"
    assert received.body == {
        "model": "claude-loop", "system": "You are terse.", "max_tokens": 2048, "temperature": 0.5,
        "messages": [{"role": "user", "content": "Hello there\n\nHow are you?"}],
    }  # fmt: skip
    # and the answer and usage come back
    assert done.text == "Fine, thanks." and done.provider == "anthropic"
    assert (done.usage.tokens_in, done.usage.tokens_out, done.usage.estimated) == (8, 2, False)
    assert done.credits == Decimal("0.0540")  # (8 x 3 + 2 x 15) / 1000
    [record] = usage_rows(payer.account)
    assert (record.provider, record.model, record.credits) == ("anthropic", "claude-test", Decimal("0.0540"))


def test_stream_reads_anthropic_events(payer, claude, model_server):
    model_server.reply("One two three four.")
    stream = gateway.stream(account=payer.account, model="claude-test", messages=CONVERSATION, feature="chat",
                            max_tokens=100)  # fmt: skip
    assert list(stream) == ["One ", "two ", "three ", "four."]
    assert model_server.requests[0]["stream"] is True and model_server.requests[0]["max_tokens"] == 100
    usage = stream.completion.usage
    assert (usage.tokens_in, usage.tokens_out, usage.estimated) == (8, 4, False)
    assert stream.completion.finish_reason == "stop"


def test_streams_reuse_one_pooled_connection(payer, claude, model_server):
    for _ in range(3):
        assert "".join(gateway.stream(account=payer.account, model="claude-test", messages=CONVERSATION, feature="c"))
    assert len({r.client_port for r in model_server.received}) == 1


def test_overloaded_529_is_retried(payer, claude, model_server):
    model_server.fail(529, body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    done = gateway.complete(account=payer.account, model="claude-test", messages=CONVERSATION, feature="chat")
    assert done.text == "Echo: Hello there\n\nHow are you?" and len(model_server.requests) == 2


def test_json_output_is_asked_for_in_the_system_prompt(payer, claude, model_server):
    model_server.reply('{"ok": true}')
    schema = {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}
    gateway.complete(account=payer.account, model="claude-test", messages=CONVERSATION, feature="service",
                     json_schema=schema)  # fmt: skip
    system = model_server.requests[0]["system"]
    assert system.startswith("You are terse.\n\nAnswer with one JSON object and nothing else.")
    assert '"required": ["ok"]' in system


def test_missing_key_is_misconfigured(payer, claude, model_server, settings):
    settings.AI_ANTHROPIC_API_KEY = ""
    with pytest.raises(ProviderMisconfigured) as err:
        gateway.complete(account=payer.account, model="claude-test", messages=CONVERSATION, feature="chat")
    assert "set AI_ANTHROPIC_API_KEY" in err.value.message
    assert model_server.requests == []
