"""Stop, a second tab, and a reload in the middle of an answer."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from aiplatform.ai.pricing import estimate_prompt_tokens, estimate_tokens
from aiplatform.ai.types import ChatMessage
from tests.chats.conftest import (
    PROMPT,
    TIMEOUT,
    adb,
    burns,
    frames_until_end,
    holds,
    messages_of,
    open_chat,
    session_cookie,
    text_of,
    usage,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chat_loop")]

QUESTION = "Walk me through the lane 4 plan"
LONG_ANSWER = " ".join(f"step{i}" for i in range(40))


def estimated_price(question: str, answer: str) -> tuple[int, int, Decimal]:
    """What the gateway charges when the provider reported no usage (a cancelled stream):
    its documented estimate, at test-model's 1 credit per 1k in and 2 per 1k out."""
    tokens_in = estimate_prompt_tokens([ChatMessage("system", PROMPT), ChatMessage("user", question)])
    tokens_out = estimate_tokens(answer)
    price = ((Decimal(tokens_in) + 2 * Decimal(tokens_out)) / 1000).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return tokens_in, tokens_out, price


async def tokens(socket, count: int) -> list[dict]:
    """Frames until `count` token frames have arrived."""
    frames: list[dict] = []
    while sum(f["type"] == "token" for f in frames) < count:
        frames.append(await socket.receive_json_from(timeout=TIMEOUT))
    return frames


async def test_stop_keeps_the_partial_answer_and_charges_what_was_generated(tenants, chat, model_server):
    # given an answer streaming one word every 40 ms
    model_server.reply(LONG_ANSWER)
    model_server.slow(token_delay=0.04)
    socket, _ = await open_chat(await session_cookie(tenants.alice), chat.pk)
    await socket.send_json_to({"type": "send", "content": QUESTION})
    frames = await tokens(socket, 3)

    # when alice stops it
    await socket.send_json_to({"type": "stop"})
    frames += await frames_until_end(socket)

    # then the answer ends stopped, keeping exactly what was streamed, and is charged for it
    delivered = "".join(f["text"] for f in frames if f["type"] == "token")
    assert 3 <= len(delivered.split()) < 40
    tokens_in, tokens_out, price = estimated_price(QUESTION, delivered)
    done = frames[-1]
    assert (done["type"], done["status"], done["content"]) == ("done", "stopped", delivered)
    assert (done["usage"], done["credits"]) == ({"tokens_in": tokens_in, "tokens_out": tokens_out}, f"{price}")
    stored = (await adb(messages_of)(chat))[1]
    assert (stored.status, stored.content, stored.credits_charged) == ("stopped", delivered, price)
    assert await adb(burns)(tenants.a) == [-price]
    assert [s for s, _ in await adb(holds)(tenants.a)] == ["settled"]
    assert await adb(usage)(tenants.a) == [("cancelled", tokens_in, tokens_out, price)]
    # and the upstream request was closed, not read to the end
    assert len(model_server.disconnects) == 1
    await socket.disconnect()


async def test_a_second_tab_sees_the_same_answer_stream(tenants, chat, model_server):
    # given alice has the chat open in two tabs
    cookie = await session_cookie(tenants.alice)
    tab1, _ = await open_chat(cookie, chat.pk)
    tab2, _ = await open_chat(cookie, chat.pk)
    model_server.reply(LONG_ANSWER)
    model_server.slow(token_delay=0.01)

    # when she sends from the first tab
    await tab1.send_json_to({"type": "send", "content": QUESTION})
    first = await frames_until_end(tab1)
    second = await frames_until_end(tab2)

    # then the second tab got her message, the answer's placeholder, the text so far and the rest live
    assert [f["type"] for f in second[:3]] == ["message", "message", "sync"]
    assert [f["message"]["content"] for f in second[:2]] == [QUESTION, ""]
    assert text_of(second) == LONG_ANSWER == text_of(first)
    # and both tabs end with the same done frame
    assert second[-1] == first[-1]
    assert first[-1]["status"] == "complete"
    await tab1.disconnect()
    await tab2.disconnect()


async def test_a_reload_mid_answer_gets_the_text_so_far_then_the_rest(tenants, chat, model_server):
    # given an answer streaming in alice's tab
    model_server.reply(LONG_ANSWER)
    model_server.slow(token_delay=0.02)
    cookie = await session_cookie(tenants.alice)
    tab, _ = await open_chat(cookie, chat.pk)
    await tab.send_json_to({"type": "send", "content": QUESTION})
    before = await tokens(tab, 5)
    answer_id = before[1]["message"]["id"]

    # when she reloads the page (the socket closes, a new one opens)
    await tab.disconnect()
    reloaded, hello = await open_chat(cookie, chat.pk)
    frames = await frames_until_end(reloaded)

    # then the new socket is told which answer streams, gets it so far, then the rest
    assert hello == {"type": "hello", "session_id": str(chat.pk), "streaming": answer_id}
    assert frames[0]["type"] == "sync"
    assert len(frames[0]["text"]) >= len("".join(f["text"] for f in before if f["type"] == "token"))
    assert text_of(frames) == LONG_ANSWER
    assert (frames[-1]["type"], frames[-1]["status"]) == ("done", "complete")
    # and the answer went on without the socket that asked for it
    stored = (await adb(messages_of)(chat))[1]
    assert (stored.status, stored.content) == ("complete", LONG_ANSWER)
    await reloaded.disconnect()


async def test_a_reload_after_the_answer_finds_nothing_streaming(tenants, chat, model_server):
    # given a finished exchange
    cookie = await session_cookie(tenants.alice)
    tab, _ = await open_chat(cookie, chat.pk)
    await tab.send_json_to({"type": "send", "content": QUESTION})
    await frames_until_end(tab)
    await tab.disconnect()

    # when the page is reloaded
    reloaded, hello = await open_chat(cookie, chat.pk)

    # then nothing is streaming (the page shows the stored messages). The exchange's frames to
    # the chat's group (for other tabs) may still reach the new socket on a loaded machine:
    # they travel through Redis behind the direct ones the asking tab waited for. What may
    # arrive is the exchange's messages and its end, in order, so the page ends finished;
    # never a token or a sync of an answer that is over.
    assert hello == {"type": "hello", "session_id": str(chat.pk), "streaming": None}
    late = []
    while not await reloaded.receive_nothing(timeout=0.5):
        late.append((await reloaded.receive_json_from())["type"])
    assert set(late) <= {"message", "done"}, late
    assert not late or late[-1] == "done", late
    await reloaded.disconnect()
