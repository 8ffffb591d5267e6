"""Provider failures: retries with backoff, Retry-After, timeouts, and errors that
say what to check. A failed call is recorded and never charged."""

from __future__ import annotations

import socket
import time
from decimal import Decimal

import pytest

from aiplatform.ai import gateway
from aiplatform.ai.errors import ProviderError, ProviderMisconfigured, ProviderUnavailable
from aiplatform.ai.types import ChatMessage
from tests.ai.conftest import balance, usage_rows, use_rows

pytestmark = pytest.mark.django_db

QUESTION = [ChatMessage("user", "Are you there?")]


def _complete(payer, **kwargs):
    return gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="chat", **kwargs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_500_is_retried_and_the_second_attempt_answers(payer, chat_model, model_server):
    model_server.fail(500)
    done = _complete(payer, charge=True)
    assert done.text == "Echo: Are you there?"
    assert len(model_server.requests) == 2
    assert [r.status for r in usage_rows(payer.account)] == ["ok"]
    assert len(use_rows(payer.account)) == 1


def test_a_429_waits_what_retry_after_asks(payer, chat_model, model_server):
    model_server.fail(429, retry_after=0.4)
    started = time.monotonic()
    done = _complete(payer)
    assert time.monotonic() - started >= 0.4
    assert done.text == "Echo: Are you there?" and len(model_server.requests) == 2


def test_a_retry_after_beyond_the_bound_fails_at_once(payer, chat_model, model_server, settings):
    settings.AI_RETRY_AFTER_MAX = 5
    model_server.fail(429, retry_after=60)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as err:
        _complete(payer)
    assert time.monotonic() - started < 2
    assert err.value.status == 503 and err.value.extra["retry_after"] == 60
    assert "rate limiting us" in err.value.message and len(model_server.requests) == 1


def test_a_persistent_500_is_a_provider_error_recorded_and_not_charged(payer, chat_model, model_server):
    # given every attempt fails (one try + AI_MAX_RETRIES = 2 retries)
    model_server.fail(500, times=3)
    # when
    with pytest.raises(ProviderError) as err:
        _complete(payer, charge=True)
    # then
    assert type(err.value) is ProviderError and err.value.status == 502
    assert f"at 127.0.0.1:{model_server.port} failed (HTTP 500 after 3 attempts" in err.value.message
    assert len(model_server.requests) == 3
    [record] = usage_rows(payer.account)
    assert (record.status, record.tokens_in, record.tokens_out, record.credits) == ("error", 0, 0, Decimal("0"))
    assert "ProviderError" in record.error and "HTTP 500" in record.error
    assert use_rows(payer.account) == [] and balance(payer.account) == Decimal("100.0000")


def test_a_400_is_not_retried_and_carries_the_providers_message(payer, chat_model, model_server):
    model_server.fail(400, body={"error": {"message": "This model's maximum context length is 8 tokens."}})
    with pytest.raises(ProviderError) as err:
        _complete(payer)
    assert "rejected the request (HTTP 400: This model's maximum context length is 8 tokens.)" in err.value.message
    assert len(model_server.requests) == 1


def test_a_refused_api_key_names_the_setting_to_check(payer, chat_model, model_server):
    model_server.fail(401, body={"error": {"message": "Incorrect API key provided."}})
    with pytest.raises(ProviderMisconfigured) as err:
        _complete(payer)
    assert err.value.status == 503 and err.value.code == "provider_misconfigured"
    assert "Check AI_OPENAI_API_KEY" in err.value.message and "Incorrect API key" in err.value.message
    assert len(model_server.requests) == 1


def test_a_provider_that_is_down_is_unavailable_with_its_host(payer, chat_model, settings):
    # given nothing listens on the port
    port = _free_port()
    settings.AI_OPENAI_BASE_URL = f"http://127.0.0.1:{port}/v1"
    # when
    with pytest.raises(ProviderUnavailable) as err:
        _complete(payer)
    # then
    assert err.value.status == 503 and err.value.code == "provider_unavailable"
    assert f"at 127.0.0.1:{port} could not be reached" in err.value.message
    assert "Check that it is running and that AI_OPENAI_BASE_URL" in err.value.message
    assert [r.status for r in usage_rows(payer.account)] == ["error"]


def test_a_hosted_provider_without_a_key_is_misconfigured_before_any_request(payer, chat_model, settings):
    settings.AI_OPENAI_BASE_URL = "https://api.openai.com/v1"
    settings.AI_OPENAI_API_KEY = ""
    with pytest.raises(ProviderMisconfigured) as err:
        _complete(payer)
    assert "No API key for the OpenAI-compatible provider at api.openai.com: set AI_OPENAI_API_KEY" in str(err.value)


def test_a_local_server_needs_no_key(payer, chat_model, model_server, settings):
    settings.AI_OPENAI_API_KEY = ""
    assert _complete(payer).text == "Echo: Are you there?"
    assert "authorization" not in model_server.received[0].headers


def test_a_first_token_slower_than_the_timeout_is_unavailable(payer, chat_model, model_server, settings):
    # given
    settings.AI_MAX_RETRIES = 0
    model_server.slow(first_token_delay=3)
    stream = gateway.stream(account=payer.account, model="test-model", messages=QUESTION, feature="chat", timeout=0.3)
    # when
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as err:
        next(stream)
    # then
    assert time.monotonic() - started < 2
    assert "did not answer within 0.3 s (AI_TIMEOUT)" in err.value.message
    assert stream.completion.finish_reason == "error" and stream.completion.text == ""
    [record] = usage_rows(payer.account)
    assert record.status == "error" and "ProviderUnavailable" in record.error


def test_a_slow_whole_answer_times_out_too_and_is_retried_first(payer, chat_model, model_server, settings):
    settings.AI_MAX_RETRIES = 1
    model_server.slow(first_token_delay=3)
    with pytest.raises(ProviderUnavailable):
        _complete(payer, timeout=0.2)
    assert len(model_server.requests) == 2


def test_a_stream_is_retried_before_its_first_byte(payer, chat_model, model_server):
    model_server.fail(503)
    model_server.reply("Still here.")
    stream = gateway.stream(account=payer.account, model="test-model", messages=QUESTION, feature="chat")
    assert "".join(stream) == "Still here."
    assert len(model_server.requests) == 2 and stream.completion.finish_reason == "stop"


def test_a_stream_that_keeps_failing_raises_and_is_recorded(payer, chat_model, model_server):
    model_server.fail(502, times=3)
    stream = gateway.stream(account=payer.account, model="test-model", messages=QUESTION, feature="chat", charge=True)
    with pytest.raises(ProviderError):
        list(stream)
    [record] = usage_rows(payer.account)
    assert record.status == "error" and record.credits == Decimal("0")
    assert use_rows(payer.account) == []


def test_an_answer_that_is_not_json_is_a_provider_error(payer, chat_model, model_server):
    model_server.fail(200, body="<html>a proxy login page</html>")
    with pytest.raises(ProviderError) as err:
        _complete(payer)
    assert "answered with something that is not JSON ('<html>a proxy login page</html>')" in err.value.message
    assert [r.status for r in usage_rows(payer.account)] == ["error"]
