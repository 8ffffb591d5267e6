"""The chat page and the persona picker's form."""

from __future__ import annotations

import json

import pytest

from accounts.tenancy.context import account_context
from chats.models import ChatSession
from tests.chats.factories import ChatSessionFactory, conversation

pytestmark = pytest.mark.django_db


def page_data(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="chat-data" type="application/json">') + len(
        '<script id="chat-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_chat_page_shows_the_branch_and_the_sidebar(client, tenants, chat):
    # given a titled chat with one exchange, and another chat
    conversation(chat, ("How do we cut dwell time?", "Use **appointment** slots."))
    with account_context(chat.account_id):
        ChatSession.objects.filter(pk=chat.pk).update(title="Dwell time")
    ChatSessionFactory(account=tenants.a, user=tenants.alice, persona=chat.persona, title="Other chat")
    client.force_login(tenants.alice)

    # when
    response = client.get(f"/chats/{chat.pk}/")

    # then
    assert response.status_code == 200
    data = page_data(response)
    assert [m["content"] for m in data["messages"]] == ["How do we cut dwell time?", "Use **appointment** slots."]
    assert (data["session"]["title"], data["streaming"], data["can_send"]) == ("Dwell time", None, True)
    assert [s["title"] for s in data["sessions"]] == ["Other chat", "Dwell time"]
    html = response.content.decode()
    assert 'data-testid="chat-composer"' in html and "/static/chats/chat.js" in html


def test_someone_elses_chat_page_is_404(client, tenants, chat):
    client.force_login(tenants.bob)

    response = client.get(f"/chats/{chat.pk}/")

    assert response.status_code == 404


def test_the_picker_starts_a_chat_and_opens_it(client, tenants, persona):
    client.force_login(tenants.alice)

    response = client.post("/chats/new/", {"persona_id": str(persona.pk)})

    with account_context(tenants.a.id):
        [created] = ChatSession.objects.filter(user=tenants.alice)
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{created.pk}/"
    assert created.persona_id == persona.pk


def test_the_picker_refuses_a_foreign_persona(client, tenants, chat_model):
    from tests.personas.factories import PersonaFactory

    foreign = PersonaFactory(account=tenants.b, created_by=tenants.carol)
    client.force_login(tenants.alice)

    response = client.post("/chats/new/", {"persona_id": str(foreign.pk)}, follow=True)

    assert "There is no such persona." in response.content.decode()
    with account_context(tenants.a.id):
        assert ChatSession.objects.count() == 0


def test_the_nav_links_to_chats(client, tenants):
    client.force_login(tenants.alice)

    assert '<a href="/chats/">Chats</a>' in client.get("/dashboard/").content.decode()
