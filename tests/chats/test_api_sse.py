"""Sending through the REST API: the answer streams back as Server-Sent Events;
refusals answer in the API's JSON error shape; stop works over REST too."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import connections
from django.test import AsyncClient

from accounts.models import Role
from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context
from tests.chats.conftest import PROMPT, adb, balance, burns, holds, messages_of
from tests.chats.factories import ChatSessionFactory
from tests.chats.test_consumer_control import LONG_ANSWER, estimated_price

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chat_loop")]

QUESTION = "Which playbook fits lane 4?"
ANSWER = "Use the cross-dock playbook."


@pytest.fixture
def bearer(tenants) -> dict[str, str]:
    """An API key of alice's in account A: programs send messages this way."""
    with account_context(tenants.a.id):
        _, raw = api_key_create(account=tenants.a, actor=tenants.alice_membership, name="bot", role=Role.MEMBER)
    return {"Authorization": f"Bearer {raw}"}


def parse(body: bytes) -> list[dict]:
    """Server-sent events -> frames; checks each event's name matches its type."""
    frames = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = block.split("\n")
        frame = json.loads(data.removeprefix("data: "))
        assert name == f"event: {frame['type']}"
        frames.append(frame)
    return frames


async def read_events(response, until_tokens: int | None = None) -> list[dict]:
    frames: list[dict] = []
    async for chunk in response.streaming_content:
        frames += parse(chunk)
        if until_tokens is not None and sum(f["type"] == "token" for f in frames) >= until_tokens:
            break
    return frames


def send_url(chat) -> str:
    return f"/api/v1/chat-sessions/{chat.pk}/send/"


async def test_send_streams_the_answer_as_server_sent_events(tenants, chat, model_server, bearer):
    # given
    model_server.reply(ANSWER)

    # when a program sends a question with its API key
    response = await AsyncClient().post(send_url(chat), {"content": QUESTION}, content_type="application/json",
                                        headers={**bearer, "Accept": "text/event-stream"})  # fmt: skip
    frames = await read_events(response)

    # then the answer comes back as events, the same frames as on the websocket
    assert (response.status_code, response["Content-Type"], response["Cache-Control"]) == (
        200, "text/event-stream", "no-cache")  # fmt: skip
    assert [f["type"] for f in frames[:2]] == ["message", "message"]
    assert "".join(f["text"] for f in frames if f["type"] == "token") == ANSWER
    tokens_in, tokens_out = len(PROMPT.split()) + len(QUESTION.split()), len(ANSWER.split())
    price = Decimal(tokens_in + 2 * tokens_out) / 1000
    assert frames[-1] == {
        "type": "done", "message_id": frames[1]["message"]["id"], "status": "complete", "content": ANSWER,
        "usage": {"tokens_in": tokens_in, "tokens_out": tokens_out}, "credits": f"{price:.4f}", "citations": [],
        "title": QUESTION,
    }  # fmt: skip
    assert [(m.sender, m.content, m.status) for m in await adb(messages_of)(chat)] == [
        ("user", QUESTION, "complete"), ("bot", ANSWER, "complete")]  # fmt: skip
    assert await adb(burns)(tenants.a) == [-price]


async def test_insufficient_credits_answers_402_in_json_and_stores_nothing(tenants, persona, model_server, bearer):
    # given a chat in an account without credits
    chat = await adb(ChatSessionFactory)(account=tenants.a, user=tenants.alice, persona=persona)

    # when
    response = await AsyncClient().post(send_url(chat), {"content": QUESTION}, content_type="application/json",
                                        headers=bearer)  # fmt: skip

    # then
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert await adb(messages_of)(chat) == []
    assert await adb(holds)(tenants.a) == []
    assert model_server.requests == []


async def test_refusal_to_an_event_stream_client_is_one_error_event(tenants, chat, model_server, bearer):
    # when an empty message is sent by a client that accepts only events
    response = await AsyncClient().post(send_url(chat), {"content": " "}, content_type="application/json",
                                        headers={**bearer, "Accept": "text/event-stream"})  # fmt: skip

    # then the status says it, and the body is one error event
    assert response.status_code == 400
    assert parse(response.content) == [{
        "type": "error", "code": "validation_error", "message": "Type a message to send.",
        "fields": {"content": ["This field is required."]},
    }]  # fmt: skip


async def test_rate_limit_answers_429_with_retry_after(tenants, chat, model_server, bearer, settings):
    # given a limit of one message a minute, used
    settings.CHAT_USER_MESSAGES_PER_MINUTE = 1
    client = AsyncClient()
    first = await client.post(send_url(chat), {"content": "one"}, content_type="application/json", headers=bearer)
    await read_events(first)

    # when
    response = await client.post(send_url(chat), {"content": "two"}, content_type="application/json", headers=bearer)

    # then
    assert (response.status_code, response["Retry-After"]) == (429, "60")
    assert (response.json()["error"]["code"], response.json()["error"]["retry_after"]) == ("rate_limited", 60)


async def test_stop_over_rest_keeps_the_partial_answer(tenants, chat, model_server, bearer):
    # given an answer streaming as events, three words in
    model_server.reply(LONG_ANSWER)
    model_server.slow(token_delay=0.04)
    client = AsyncClient()
    response = await client.post(send_url(chat), {"content": QUESTION}, content_type="application/json",
                                 headers=bearer)  # fmt: skip
    frames = await read_events(response, until_tokens=3)

    # when the program stops it over REST (its own request thread, as ASGIHandler gives each request)
    async with ThreadSensitiveContext():
        stopped = await client.post(f"/api/v1/chat-sessions/{chat.pk}/stop/", headers=bearer)
        await sync_to_async(connections.close_all)()  # that thread ends with the context
    frames += await read_events(response)

    # then the stop answers with the stopped message, and the stream ends with the same
    delivered = "".join(f["text"] for f in frames if f["type"] == "token")
    _, _, price = estimated_price(QUESTION, delivered)
    assert stopped.status_code == 200
    assert (stopped.json()["status"], stopped.json()["content"], stopped.json()["credits"]) == (
        "stopped", delivered, f"{price}")  # fmt: skip
    assert (frames[-1]["type"], frames[-1]["status"], frames[-1]["content"]) == ("done", "stopped", delivered)
    assert await adb(burns)(tenants.a) == [-price]
    assert await adb(balance)(tenants.a) == (Decimal("100") - price, Decimal("0"))


async def test_stop_with_nothing_streaming_is_409(tenants, chat, bearer):
    response = await AsyncClient().post(f"/api/v1/chat-sessions/{chat.pk}/stop/", headers=bearer)

    assert (response.status_code, response.json()["error"]["code"]) == (409, "nothing_to_stop")
