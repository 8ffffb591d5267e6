"""Editing an earlier message branches the conversation; regenerating adds a
sibling answer; the old branches stay reachable."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from chats.selectors import branch_of
from tests.chats.conftest import PROMPT, adb, frames_until_end, open_chat, session_cookie, session_row
from tests.chats.factories import conversation

QUESTION_2_EDITED = "q2, but for lane 5"


def shown(session, leaf=None) -> list[tuple[str, str, int]]:
    """(sender, content, number of alternatives) of a branch."""
    with account_context(session.account_id):
        branch = branch_of(session_row(session), leaf)
    return [(b.message.sender, b.message.content, len(b.siblings)) for b in branch]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chat_loop")
async def test_editing_an_earlier_message_answers_from_there_on_a_new_branch(tenants, chat, model_server):
    # given two exchanges
    q1, a1, q2, a2 = await adb(conversation)(chat, ("q1", "a1"), ("q2", "a2"))
    model_server.reply("a2 for lane 5")
    socket, _ = await open_chat(await session_cookie(tenants.alice), chat.pk)

    # when alice edits her second question
    await socket.send_json_to({"type": "send", "content": QUESTION_2_EDITED, "edit_of": str(q2.pk)})
    frames = await frames_until_end(socket)

    # then the model saw the conversation up to the edited message only
    assert model_server.requests[-1]["messages"] == [
        {"role": "system", "content": PROMPT}, {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"}, {"role": "user", "content": QUESTION_2_EDITED},
    ]  # fmt: skip
    assert frames[0]["message"]["parent_id"] == str(a1.pk)
    # and the new branch is shown, with the old one beside it
    assert await adb(shown)(chat) == [("user", "q1", 1), ("bot", "a1", 1), ("user", QUESTION_2_EDITED, 2),
                                      ("bot", "a2 for lane 5", 1)]  # fmt: skip
    assert await adb(shown)(chat, a2.pk) == [("user", "q1", 1), ("bot", "a1", 1), ("user", "q2", 2), ("bot", "a2", 1)]
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chat_loop")
async def test_regenerating_adds_a_sibling_answer_to_the_same_question(tenants, chat, model_server):
    # given two exchanges
    q1, a1, q2, a2 = await adb(conversation)(chat, ("q1", "a1"), ("q2", "a2"))
    model_server.reply("a2, second try")
    socket, _ = await open_chat(await session_cookie(tenants.alice), chat.pk)

    # when alice regenerates the last answer
    await socket.send_json_to({"type": "regenerate", "message_id": str(a2.pk)})
    frames = await frames_until_end(socket)

    # then only a new answer was made (no new message of hers), from the same conversation
    assert [f["message"]["sender"] for f in frames if f["type"] == "message"] == ["bot"]
    assert frames[0]["message"]["parent_id"] == str(q2.pk)
    assert model_server.requests[-1]["messages"][-1] == {"role": "user", "content": "q2"}
    assert len(model_server.requests[-1]["messages"]) == 4
    assert await adb(shown)(chat) == [("user", "q1", 1), ("bot", "a1", 1), ("user", "q2", 1),
                                      ("bot", "a2, second try", 2)]  # fmt: skip
    await socket.disconnect()


@pytest.mark.django_db
def test_choosing_an_older_branch_shows_it_again(api_client, tenants, chat):
    # given a question that was edited (two branches), the new one shown
    q1, a1, q2, a2 = conversation(chat, ("q1", "a1"), ("q2", "a2"))
    chat.active_leaf = a1
    q2b, a2b = conversation(chat, ("q2 edited", "a2 edited"))
    api_client.force_login(tenants.alice)

    # when alice goes back to her first version of q2
    response = api_client.post(f"/api/v1/chat-sessions/{chat.pk}/branch/", {"message_id": str(q2.pk)}, format="json")

    # then that branch is shown, down to its answer, and stays shown
    assert response.status_code == 200
    assert [(m["content"], m["siblings"]) for m in response.json()] == [
        ("q1", [str(q1.pk)]), ("a1", [str(a1.pk)]), ("q2", [str(q2.pk), str(q2b.pk)]), ("a2", [str(a2.pk)]),
    ]  # fmt: skip
    assert session_row(chat).active_leaf_id == a2.pk
    listed = api_client.get(f"/api/v1/chat-sessions/{chat.pk}/messages/").json()
    assert [m["content"] for m in listed] == ["q1", "a1", "q2", "a2"]


@pytest.mark.django_db
def test_a_branch_through_a_message_of_another_chat_is_404(api_client, tenants, chat, persona):
    from tests.chats.factories import ChatSessionFactory

    other = ChatSessionFactory(account=tenants.a, user=tenants.alice, persona=persona)
    [foreign_q, _] = conversation(other, ("elsewhere", "there"))
    conversation(chat, ("q1", "a1"))
    api_client.force_login(tenants.alice)

    response = api_client.post(f"/api/v1/chat-sessions/{chat.pk}/branch/", {"message_id": str(foreign_q.pk)},
                               format="json")  # fmt: skip
    listed = api_client.get(f"/api/v1/chat-sessions/{chat.pk}/messages/", {"leaf": str(foreign_q.pk)})

    assert (response.status_code, listed.status_code) == (404, 404)
