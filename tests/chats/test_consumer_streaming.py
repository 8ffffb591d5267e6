"""The chat websocket against the loopback model server: frames in order, the
`done` frame with usage and credits, what is stored and charged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.chats.conftest import (
    PROMPT,
    adb,
    balance,
    burns,
    frames_until_end,
    holds,
    messages_of,
    open_chat,
    session_cookie,
    session_row,
    usage,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chat_loop")]

QUESTION = "Which playbook fits lane 4?"
ANSWER = "Use the cross-dock playbook for lane 4, it cuts dwell time."
# The loopback server counts words: prompt = system prompt + question, answer = one token per word.
TOKENS_IN = len(PROMPT.split()) + len(QUESTION.split())
TOKENS_OUT = len(ANSWER.split())


def credits(tokens_in: int, tokens_out: int) -> Decimal:
    return (Decimal(tokens_in) * 1 + Decimal(tokens_out) * 2) / 1000


async def test_answer_streams_tokens_in_order_then_done_with_usage_and_credits(tenants, chat, model_server):
    # given alice on her chat, and a model that answers ANSWER
    model_server.reply(ANSWER)
    socket, hello = await open_chat(await session_cookie(tenants.alice), chat.pk)
    assert hello == {"type": "hello", "session_id": str(chat.pk), "streaming": None}

    # when she sends a question
    await socket.send_json_to({"type": "send", "content": QUESTION})
    frames = await frames_until_end(socket)

    # then her message and the answer's placeholder come first, then the tokens in order, then done
    question, answer = frames[0]["message"], frames[1]["message"]
    assert [f["type"] for f in frames[:2]] == ["message", "message"]
    assert (question["sender"], question["content"], question["status"]) == ("user", QUESTION, "complete")
    assert (answer["sender"], answer["status"], answer["parent_id"]) == ("bot", "streaming", question["id"])
    tokens = frames[2:-1]
    assert {f["type"] for f in tokens} == {"token"}
    assert "".join(f["text"] for f in tokens) == ANSWER
    offsets = [f["offset"] for f in tokens]
    assert offsets == [sum(len(f["text"]) for f in tokens[:i]) for i in range(len(tokens))]
    price = credits(TOKENS_IN, TOKENS_OUT)
    assert frames[-1] == {
        "type": "done", "message_id": answer["id"], "status": "complete", "content": ANSWER,
        "usage": {"tokens_in": TOKENS_IN, "tokens_out": TOKENS_OUT}, "credits": f"{price:.4f}",
        "citations": [], "title": "Which playbook fits lane 4?",
    }  # fmt: skip

    # and the answer is stored complete, charged once through its settled hold
    stored = await adb(messages_of)(chat)
    assert [(m.sender, m.content, m.status) for m in stored] == [("user", QUESTION, "complete"),
                                                                ("bot", ANSWER, "complete")]  # fmt: skip
    assert (stored[1].tokens_in, stored[1].tokens_out, stored[1].credits_charged) == (TOKENS_IN, TOKENS_OUT, price)
    assert await adb(burns)(tenants.a) == [-price]
    assert [status for status, _ in await adb(holds)(tenants.a)] == ["settled"]
    assert await adb(balance)(tenants.a) == (Decimal("100") - price, Decimal("0"))
    assert await adb(usage)(tenants.a) == [("ok", TOKENS_IN, TOKENS_OUT, price)]
    row = await adb(session_row)(chat)
    assert (row.title, row.active_leaf_id) == ("Which playbook fits lane 4?", stored[1].pk)
    await socket.disconnect()


async def test_follow_up_sends_the_conversation_so_far(tenants, chat, model_server):
    # given a first exchange on the chat
    model_server.reply("First answer.")
    model_server.reply("Second answer.")
    socket, _ = await open_chat(await session_cookie(tenants.alice), chat.pk)
    await socket.send_json_to({"type": "send", "content": "First question"})
    await frames_until_end(socket)

    # when she asks a follow-up
    await socket.send_json_to({"type": "send", "content": "Second question"})
    frames = await frames_until_end(socket)

    # then the model got the system prompt, the first exchange and the new question, in order
    assert frames[-1]["status"] == "complete"
    assert model_server.requests[-1]["messages"] == [
        {"role": "system", "content": PROMPT},
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "First answer."},
        {"role": "user", "content": "Second question"},
    ]
    stored = await adb(messages_of)(chat)
    assert [m.content for m in stored] == ["First question", "First answer.", "Second question", "Second answer."]
    assert stored[2].parent_id == stored[1].pk
    await socket.disconnect()
