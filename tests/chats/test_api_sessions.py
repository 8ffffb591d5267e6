"""`/api/v1/chat-sessions/`: a user's own chats in the active account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership, Role
from accounts.tenancy.context import account_context
from chats.models import ChatSession, Message
from tests.chats.factories import ChatSessionFactory, MessageFactory, conversation
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/chat-sessions/"


def at(session, minutes_ago: int, **fields) -> None:
    with account_context(session.account_id):
        ChatSession.objects.filter(pk=session.pk).update(
            last_active=timezone.now() - timedelta(minutes=minutes_ago), **fields
        )


@pytest.fixture
def signed_in(api_client, tenants):
    api_client.force_login(tenants.alice)
    return api_client


def test_create_a_chat_with_a_persona_of_the_account(signed_in, tenants, persona):
    # when
    response = signed_in.post(URL, {"persona_id": str(persona.pk)}, format="json")

    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["is_favorite"], body["active_leaf_id"]) == ("", False, None)
    assert body["persona"] == {"id": str(persona.pk), "name": "Ada", "role_title": "Freight analyst"}
    with account_context(tenants.a.id):
        assert list(ChatSession.objects.values_list("user_id", "persona_id")) == [(tenants.alice.pk, persona.pk)]


def test_a_persona_of_another_account_is_404_and_creates_nothing(signed_in, tenants, chat_model):
    # given carol's persona in account B
    foreign = PersonaFactory(account=tenants.b, created_by=tenants.carol)

    # when alice starts a chat with it
    response = signed_in.post(URL, {"persona_id": str(foreign.pk)}, format="json")

    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    with account_context(tenants.a.id):
        assert ChatSession.objects.count() == 0


def test_list_shows_favorites_first_then_by_last_activity(signed_in, tenants, persona, django_assert_num_queries):
    # given four chats of alice's (one starred) and one of bob's
    old, recent, starred, newest = (
        ChatSessionFactory(account=tenants.a, user=tenants.alice, persona=persona, title=t)
        for t in ("old", "recent", "starred", "newest")
    )
    at(old, 60)
    at(recent, 10)
    at(starred, 120, is_favorite=True)
    at(newest, 1)
    ChatSessionFactory(account=tenants.a, user=tenants.bob, persona=persona, title="bob's")

    # when (the query count does not grow with the number of chats)
    with django_assert_num_queries(10):
        response = signed_in.get(URL)

    # then
    assert response.status_code == 200
    assert [s["title"] for s in response.json()["results"]] == ["starred", "newest", "recent", "old"]


def test_search_matches_titles_and_messages(signed_in, tenants, persona):
    # given
    by_title = ChatSessionFactory(account=tenants.a, user=tenants.alice, persona=persona, title="Customs brokers")
    by_message = ChatSessionFactory(account=tenants.a, user=tenants.alice, persona=persona, title="Misc")
    MessageFactory(session=by_message, content="Which customs forms for Korea?")
    ChatSessionFactory(account=tenants.a, user=tenants.alice, persona=persona, title="Lane 4")
    at(by_message, 5)

    # when
    response = signed_in.get(URL, {"search": "customs"})

    # then
    assert [s["id"] for s in response.json()["results"]] == [str(by_title.pk), str(by_message.pk)]


def test_rename_and_star(signed_in, chat):
    response = signed_in.patch(f"{URL}{chat.pk}/", {"title": "  Lane 4   plan ", "is_favorite": True}, format="json")

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["is_favorite"]) == ("Lane 4 plan", True)
    with account_context(chat.account_id):
        assert ChatSession.objects.filter(pk=chat.pk).values_list("title", "is_favorite").get() == (
            "Lane 4 plan", True)  # fmt: skip


def test_delete_removes_the_chat_and_its_messages(signed_in, chat):
    conversation(chat, ("q1", "a1"))

    response = signed_in.delete(f"{URL}{chat.pk}/")

    assert response.status_code == 204
    with account_context(chat.account_id):
        assert (ChatSession.objects.count(), Message.objects.count()) == (0, 0)


def test_another_members_chat_is_404_to_every_route(api_client, tenants, chat):
    # given bob, a member of the same account
    api_client.force_login(tenants.bob)
    conversation(chat, ("secret question", "secret answer"))

    # when he tries every route of alice's chat
    responses = [
        api_client.get(f"{URL}{chat.pk}/"),
        api_client.get(f"{URL}{chat.pk}/messages/"),
        api_client.patch(f"{URL}{chat.pk}/", {"title": "mine"}, format="json"),
        api_client.post(f"{URL}{chat.pk}/send/", {"content": "hi"}, format="json"),
        api_client.post(f"{URL}{chat.pk}/stop/"),
        api_client.delete(f"{URL}{chat.pk}/"),
    ]

    # then each is a 404 that shows nothing of it, and his list is empty
    assert [r.status_code for r in responses] == [404] * 6
    assert not any(b"secret" in r.content for r in responses)
    assert api_client.get(URL).json()["results"] == []
    with account_context(chat.account_id):
        assert ChatSession.objects.filter(pk=chat.pk).values_list("title", flat=True).get() == ""


def test_a_viewer_reads_but_cannot_create(api_client, tenants, persona):
    with account_context(tenants.a.id):
        Membership.objects.filter(account=tenants.a, user=tenants.bob).update(role=Role.VIEWER)
    api_client.force_login(tenants.bob)

    assert api_client.get(URL).status_code == 200
    response = api_client.post(URL, {"persona_id": str(persona.pk)}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")


def test_messages_lists_the_branch_shown(signed_in, chat):
    # given two exchanges
    q1, a1, q2, a2 = conversation(chat, ("q1", "a1"), ("q2", "a2"))

    # when
    response = signed_in.get(f"{URL}{chat.pk}/messages/")

    # then
    body = response.json()
    assert [(m["sender"], m["content"], m["siblings"]) for m in body] == [
        ("user", "q1", [str(q1.pk)]), ("bot", "a1", [str(a1.pk)]),
        ("user", "q2", [str(q2.pk)]), ("bot", "a2", [str(a2.pk)]),
    ]  # fmt: skip
    assert body[3] | {"created_at": None} == {
        "id": str(a2.pk), "session_id": str(chat.pk), "parent_id": str(q2.pk), "sender": "bot", "content": "a2",
        "status": "complete", "error": None, "model": "", "tokens_in": 0, "tokens_out": 0, "tokens_used": 0,
        "credits": "0.0000", "citations": [], "created_at": None, "completed_at": None, "siblings": [str(a2.pk)],
    }  # fmt: skip
