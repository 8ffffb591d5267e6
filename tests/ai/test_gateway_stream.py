"""gateway.stream and gateway.astream: pieces in order, usage from the final chunk,
one usage record when the stream ends, and cancellation that closes upstream."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from aiplatform.ai import gateway
from aiplatform.ai.errors import ModelUnavailable
from aiplatform.ai.pricing import estimate_prompt_tokens, estimate_tokens
from aiplatform.ai.types import ChatMessage
from tests.ai.conftest import balance, usage_rows, use_rows

pytestmark = pytest.mark.django_db

QUESTION = [ChatMessage("user", "Say something about foxes")]
ANSWER = "The quick brown fox jumps over the lazy dog."
WORDS = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog."]


def _wait_for(predicate, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_stream_yields_the_pieces_in_order_and_records_the_usage_at_the_end(payer, chat_model, model_server):
    # given
    model_server.reply(ANSWER)
    stream = gateway.stream(account=payer.account, user=payer.user, model="test-model", messages=QUESTION,
                            feature="chat", charge=True)  # fmt: skip
    # when the first piece arrives, nothing is recorded yet
    assert next(stream) == "The "
    assert usage_rows(payer.account) == []
    rest = list(stream)
    # then
    assert ["The ", *rest] == WORDS
    done = stream.completion
    assert done.text == ANSWER and done.finish_reason == "stop"
    assert (done.usage.tokens_in, done.usage.tokens_out, done.usage.estimated) == (4, 9, False)  # from the provider
    assert done.credits == Decimal("0.0220")  # (4 x 1 + 9 x 2) / 1000
    sent = model_server.requests[0]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    [record] = usage_rows(payer.account)
    assert (record.status, record.tokens_in, record.tokens_out, record.credits) == ("ok", 4, 9, Decimal("0.0220"))
    [debit] = use_rows(payer.account)
    assert debit.amount == Decimal("-0.0220")
    assert list(stream) == []  # exhausted streams stay exhausted, and record nothing more
    assert len(usage_rows(payer.account)) == 1


def test_closing_a_stream_mid_way_closes_upstream_and_records_what_was_generated(payer, chat_model, model_server):
    # given a long answer, streamed slowly
    model_server.reply(" ".join(f"word{i}" for i in range(40)))
    model_server.slow(token_delay=0.05)
    stream = gateway.stream(account=payer.account, model="test-model", messages=QUESTION, feature="chat",
                            charge=True)  # fmt: skip
    # when the reader stops after three pieces
    pieces = [next(stream), next(stream), next(stream)]
    stream.close()
    # then the server saw the client go away long before the end of the answer
    _wait_for(lambda: model_server.disconnects)
    assert model_server.disconnects[0] < 10 and model_server.open_streams == 0
    done = stream.completion
    assert done.finish_reason == "cancelled" and done.text == "".join(pieces) == "word0 word1 word2 "
    # and the tokens generated so far are estimated (the provider reports usage only at the end)
    tokens_in, tokens_out = estimate_prompt_tokens(QUESTION), estimate_tokens("word0 word1 word2 ")
    assert (done.usage.tokens_in, done.usage.tokens_out, done.usage.estimated) == (tokens_in, tokens_out, True)
    [record] = usage_rows(payer.account)
    assert (record.status, record.tokens_in, record.tokens_out) == ("cancelled", tokens_in, tokens_out)
    assert record.credits == done.credits == Decimal(tokens_in * 1 + tokens_out * 2) / 1000
    assert balance(payer.account) == Decimal("100") - done.credits
    stream.close()  # closing twice records once
    assert len(usage_rows(payer.account)) == 1


def test_stream_as_a_context_manager_closes_on_exit(payer, chat_model, model_server):
    model_server.reply(ANSWER)
    model_server.slow(token_delay=0.05)
    with gateway.stream(account=payer.account, model="test-model", messages=QUESTION, feature="chat") as stream:
        next(stream)
    assert stream.completion.finish_reason == "cancelled"
    assert [r.status for r in usage_rows(payer.account)] == ["cancelled"]


def test_calls_reuse_one_pooled_connection(payer, chat_model, model_server):
    # when three streams and a completion run one after the other
    for _ in range(3):
        assert "".join(gateway.stream(account=payer.account, model="test-model", messages=QUESTION, feature="chat"))
    gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="chat")
    # then they all came over the same keep-alive connection
    assert len({r.client_port for r in model_server.received}) == 1


def test_stream_without_reported_usage_is_estimated(payer, chat_model, model_server):
    model_server.reply(ANSWER, usage=False)
    stream = gateway.stream(account=payer.account, model="test-model", messages=QUESTION, feature="chat")
    assert "".join(stream) == ANSWER
    usage = stream.completion.usage
    assert (usage.tokens_in, usage.tokens_out, usage.estimated) == (4 + 7, 11, True)  # 25 chars + 4; 44 chars


def test_stream_checks_the_model_before_anything_is_sent(payer, chat_model, model_server):
    with pytest.raises(ModelUnavailable):
        gateway.stream(account=payer.account, model="nope", messages=QUESTION, feature="chat")
    assert model_server.requests == []


# --- async ------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_astream_yields_pieces_and_records_through_sync_to_async(payer, chat_model, model_server):
    # given
    from channels.db import database_sync_to_async

    model_server.reply(ANSWER)
    stream = gateway.astream(account=payer.account, user=payer.user, model="test-model", messages=QUESTION,
                             feature="chat", charge=True)  # fmt: skip
    # when
    pieces = [piece async for piece in stream]
    # then
    assert pieces == WORDS
    assert stream.completion.credits == Decimal("0.0220")
    [record] = await database_sync_to_async(usage_rows)(payer.account)
    assert (record.status, record.tokens_in, record.tokens_out) == ("ok", 4, 9)
    assert await database_sync_to_async(balance)(payer.account) == Decimal("99.9780")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_astream_aclose_cancels_upstream(payer, chat_model, model_server):
    import asyncio

    from channels.db import database_sync_to_async

    model_server.reply(" ".join(f"word{i}" for i in range(40)))
    model_server.slow(token_delay=0.05)
    stream = gateway.astream(account=payer.account, model="test-model", messages=QUESTION, feature="chat")
    assert await anext(stream) == "word0 "
    await stream.aclose()
    for _ in range(200):
        if model_server.disconnects:
            break
        await asyncio.sleep(0.01)
    assert model_server.disconnects and model_server.disconnects[0] < 10
    assert stream.completion.finish_reason == "cancelled" and stream.completion.text == "word0 "
    [record] = await database_sync_to_async(usage_rows)(payer.account)
    assert record.status == "cancelled" and record.tokens_out == estimate_tokens("word0 ")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_astream_reports_an_unknown_model_on_first_iteration(payer, chat_model, model_server):
    stream = gateway.astream(account=payer.account, model="nope", messages=QUESTION, feature="chat")
    with pytest.raises(ModelUnavailable):
        await anext(stream)
    assert model_server.requests == []


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_cancelling_the_reading_task_closes_upstream_and_records(payer, chat_model, model_server):
    # given a consumer task reading a slow stream (as a websocket consumer does)
    import asyncio

    from channels.db import database_sync_to_async

    model_server.reply(" ".join(f"word{i}" for i in range(40)))
    model_server.slow(token_delay=0.05)
    stream = gateway.astream(account=payer.account, model="test-model", messages=QUESTION, feature="chat")
    got: list[str] = []

    async def consume() -> None:
        async for piece in stream:
            got.append(piece)

    task = asyncio.ensure_future(consume())
    while len(got) < 2:
        await asyncio.sleep(0.01)
    # when the task is cancelled (the socket closed)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # then the provider saw the client leave, and the call is on record as cancelled
    for _ in range(200):
        if model_server.disconnects:
            break
        await asyncio.sleep(0.01)
    assert model_server.disconnects and model_server.disconnects[0] < 10
    assert stream.completion.finish_reason == "cancelled" and stream.completion.text == "".join(got)
    [record] = await database_sync_to_async(usage_rows)(payer.account)
    assert record.status == "cancelled"
