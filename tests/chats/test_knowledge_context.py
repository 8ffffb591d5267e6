"""An answer reads the knowledge passages of the persona's decision units and
cites them; the conversation is trimmed to fit the model's context window."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from aiplatform.ai.models import AiModel
from personas.models import PersonaDecisionUnit
from tests.chats.conftest import PROMPT, adb, frames_until_end, open_chat, session_cookie
from tests.chats.factories import conversation
from tests.knowledge import factories as kf

PLAYBOOK = "The cross-dock playbook: unload inbound trucks within two hours and ship the same day."


def linked_unit(tenants, persona):
    """A decision unit of account A read by the persona, searched by text only (no
    embedding model to load), with one document chunk."""
    with account_context(tenants.a.id):
        unit = kf.DecisionUnitFactory(account=tenants.a, vector_weight=0, text_weight=1)
        document = kf.DocumentFactory(unit=unit, name="playbooks.txt")
        kf.ChunkFactory(document=document, text=PLAYBOOK, page=3)
        PersonaDecisionUnit.objects.create(account=tenants.a, persona=persona, decision_unit=unit)
    return document


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chat_loop")
async def test_the_answer_reads_and_cites_the_personas_knowledge(tenants, chat, persona, model_server):
    # given the persona reads a unit holding the cross-dock playbook
    document = await adb(linked_unit)(tenants, persona)
    model_server.reply("Unload within two hours [1].")
    socket, _ = await open_chat(await session_cookie(tenants.alice), chat.pk)

    # when alice asks about it
    await socket.send_json_to({"type": "send", "content": "What does the cross-dock playbook say?"})
    frames = await frames_until_end(socket)

    # then the model got the passage under the persona's instructions
    system = model_server.requests[-1]["messages"][0]
    assert system["role"] == "system"
    assert system["content"] == (
        f"{PROMPT}\n\nKnowledge passages (cite them as [n] where you use them):\n[1] playbooks.txt\n{PLAYBOOK}"
    )
    # and the answer cites it
    [citation] = frames[-1]["citations"]
    assert {k: citation[k] for k in ("n", "title", "document_id", "page")} == {
        "n": 1, "title": "playbooks.txt", "document_id": str(document.pk), "page": 3}  # fmt: skip
    await socket.disconnect()


@pytest.mark.django_db
def test_a_long_conversation_is_trimmed_to_the_context_window(tenants, chat, chat_model, model_server):
    from chats.services.messages import answer_request

    # given a model with a small window (500 tokens, 100 kept for the answer) and a long chat
    AiModel.objects.filter(name="test-model").update(context_window=500)
    turns = [(f"question {i} " + "filler " * 30, f"answer {i} " + "filler " * 30) for i in range(10)]
    conversation(chat, *turns)

    # when alice asks again
    prepared = answer_request(account=tenants.a, user=tenants.alice, session_id=chat.pk, content="And now?")

    # then the newest messages that fit are kept, oldest dropped, and the estimate fits the window
    kept = [m.content.split()[:2] for m in prepared.prompt.messages[1:-1]]
    assert kept[-1] == ["answer", "9"] and kept[0][0] in ("question", "answer")
    assert len(kept) < 20 and prepared.prompt.dropped == 20 - len(kept)
    assert prepared.prompt.tokens <= 500 - 100
    assert prepared.prompt.messages[-1].content == "And now?"


@pytest.mark.django_db
def test_a_free_model_holds_no_credits(tenants, chat, chat_model, model_server):
    from chats.services.messages import answer_request
    from tests.chats.conftest import holds, messages_of

    # given a model that costs nothing
    AiModel.objects.filter(name="test-model").update(credits_in_per_1k=0, credits_out_per_1k=0)

    # when alice asks
    prepared = answer_request(account=tenants.a, user=tenants.alice, session_id=chat.pk, content="Free?")

    # then the question and the placeholder are stored, and nothing is held
    assert prepared.reservation_id is None
    assert [(m.sender, m.status, m.reservation_id) for m in messages_of(chat)] == [
        ("user", "complete", None), ("bot", "streaming", None)]  # fmt: skip
    assert holds(tenants.a) == []
