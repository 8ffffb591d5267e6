"""The chat page and the persona picker's form."""

from __future__ import annotations

import json
import re

import pytest

from accounts.tenancy.context import account_context
from chats.models import ChatSession
from tests.accounts.factories import UserPreferencesFactory
from tests.chats.factories import ChatSessionFactory, conversation
from tests.personas.factories import PersonaFactory

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
    foreign = PersonaFactory(account=tenants.b, created_by=tenants.carol)
    client.force_login(tenants.alice)

    response = client.post("/chats/new/", {"persona_id": str(foreign.pk)}, follow=True)

    assert "There is no such persona." in response.content.decode()
    with account_context(tenants.a.id):
        assert ChatSession.objects.count() == 0


def test_the_nav_links_to_chats(client, tenants):
    client.force_login(tenants.alice)

    html = client.get("/dashboard/").content.decode()

    link = r'<a [^>]*href="/chats/"[^>]*data-nav="chats"[^>]*>.*?<span class="nav-label">Chats</span></a>'
    assert re.search(link, html)


def _selected_options(html: str) -> list[str]:
    """The selected options of the persona picker."""
    start = html.index('<select id="persona-select"')
    picker = html[start : html.index("</select>", start)]
    return re.findall(r'<option value="([^"]+)" selected>', picker)


def test_a_new_chat_preselects_the_users_default_persona(client, tenants, persona):
    # given alice's default persona is Bea, the second of A's personas
    bea = PersonaFactory(account=tenants.a, created_by=tenants.alice, name="Bea")
    UserPreferencesFactory(user=tenants.alice, default_persona_id=bea.pk)
    client.force_login(tenants.alice)

    # when she opens the chat page
    html = client.get("/chats/").content.decode()

    # then the picker has Bea selected, and only Bea
    assert _selected_options(html) == [str(bea.pk)]


def test_a_default_persona_the_account_cannot_see_is_not_preselected(client, tenants, persona):
    # given alice's default persona belongs to account B
    foreign = PersonaFactory(account=tenants.b, created_by=tenants.carol, name="Carl")
    UserPreferencesFactory(user=tenants.alice, default_persona_id=foreign.pk)
    client.force_login(tenants.alice)

    # when she opens A's chat page
    html = client.get("/chats/").content.decode()

    # then nothing is preselected and B's persona is not offered
    assert _selected_options(html) == []
    assert str(foreign.pk) not in html


def test_an_open_chat_keeps_its_own_persona_selected(client, tenants, chat):
    # given alice's default persona is Bea, and she opens a chat with Ada
    bea = PersonaFactory(account=tenants.a, created_by=tenants.alice, name="Bea")
    UserPreferencesFactory(user=tenants.alice, default_persona_id=bea.pk)
    client.force_login(tenants.alice)

    # when
    html = client.get(f"/chats/{chat.pk}/").content.decode()

    # then the chat's persona is the selected one
    assert _selected_options(html) == [str(chat.persona_id)]
