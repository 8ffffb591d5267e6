"""The persona pages: gallery, a persona's page, the editor and deletion."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tenancy.context import rls_bypass
from personas.models import Persona
from tests.personas.factories import MODEL

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Night Shift Coach",
    "role_title": "Warehouse operations",
    "icon_url": "",
    "model": MODEL,
    "temperature": "0.4",
    "max_tokens": "300",
    "system_prompt": "PAGE-SECRET-PROMPT: coach the night shift.",
}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row(name: str) -> Persona | None:
    with rls_bypass("test: read back"):
        return Persona.objects.filter(name=name).first()


def test_the_gallery_shows_cards_with_badges_and_edit_links_only_where_allowed(tenants, personas):
    response = _client(tenants.bob).get("/personas/")
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("Logistics Strategy", "Alice Advisor", "Bob Helper"):
        assert name in body
    for hidden in ("Carol Coach", "Unreleased Expert", "SECRET-PROMPT"):
        assert hidden not in body
    assert body.count('class="badge platform"') == 1 and body.count('class="badge team"') == 2
    assert f"/personas/{personas.bobs.id}/edit/" in body
    assert f"/personas/{personas.alices.id}/edit/" not in body
    assert '<span class="avatar" aria-hidden="true">BH</span>' in body
    assert 'href="/personas/"' in body  # the nav link


def test_the_gallery_filters(tenants, personas):
    client = _client(tenants.alice)
    platform = client.get("/personas/?scope=platform").content.decode()
    assert "Logistics Strategy" in platform and "Alice Advisor" not in platform
    search = client.get("/personas/?q=route").content.decode()
    assert "Bob Helper" in search and "Alice Advisor" not in search and "Logistics Strategy" not in search


def test_the_persona_page_shows_the_prompt_only_to_those_who_may_edit(tenants, personas):
    url = f"/personas/{personas.alices.id}/"
    as_bob = _client(tenants.bob).get(url).content.decode()
    as_alice = _client(tenants.alice).get(url).content.decode()
    assert "ALICE-SECRET-PROMPT" not in as_bob and 'data-testid="prompt-hidden"' in as_bob
    assert "ALICE-SECRET-PROMPT for pricing." in as_alice
    platform = _client(tenants.alice).get(f"/personas/{personas.platform.id}/").content.decode()
    assert "PLATFORM-SECRET" not in platform and "The instructions of platform personas are not shown." in platform


def test_a_member_creates_a_persona_from_the_editor(tenants, persona_model):
    client = _client(tenants.bob)
    page = client.get("/personas/new/").content.decode()
    assert f'<option value="{MODEL}">{MODEL}</option>' in page
    response = client.post("/personas/new/", FORM)
    row = _row("Night Shift Coach")
    assert response.status_code == 302 and response["Location"] == f"/personas/{row.id}/"
    assert (row.account_id, row.created_by_id, row.system_prompt) == (
        tenants.a.id,
        tenants.bob.id,
        FORM["system_prompt"],
    )
    assert row.model_config == {"model": MODEL, "temperature": 0.4, "max_tokens": 300}


def test_the_editor_shows_field_errors_and_saves_nothing(tenants, persona_model):
    client = _client(tenants.bob)
    # the model's limit is checked by the service, the temperature's range by the form too
    too_long = client.post("/personas/new/", {**FORM, "max_tokens": "5000"})
    too_hot = client.post("/personas/new/", {**FORM, "temperature": "3"})
    assert (too_long.status_code, too_hot.status_code) == (400, 400)
    assert "Must be between 1 and 2000, the model&#x27;s maximum output." in too_long.content.decode()
    assert "Ensure this value is less than or equal to 2." in too_hot.content.decode()
    assert _row("Night Shift Coach") is None


def test_the_editor_refuses_a_model_outside_the_registry(tenants, persona_model):
    response = _client(tenants.bob).post("/personas/new/", {**FORM, "model": "gpt-imaginary"})
    assert response.status_code == 400
    assert "Select a valid choice. gpt-imaginary is not one of the available choices." in response.content.decode()


def test_a_viewer_cannot_open_the_editor(viewer, persona_model):
    assert _client(viewer.user).get("/personas/new/").status_code == 403
    assert _client(viewer.user).post("/personas/new/", FORM).status_code == 403
    assert _row("Night Shift Coach") is None


def test_an_owner_edits_a_members_persona_with_the_prompt_in_the_form(tenants, personas):
    client = _client(tenants.alice)
    page = client.get(f"/personas/{personas.bobs.id}/edit/").content.decode()
    assert "BOB-SECRET-PROMPT for routes." in page
    response = client.post(f"/personas/{personas.bobs.id}/edit/", {**FORM, "name": "Bob Helper v2"})
    assert response.status_code == 302
    assert _row("Bob Helper v2").system_prompt == FORM["system_prompt"]


@pytest.mark.parametrize("target", ["alices", "platform"])
def test_a_member_cannot_edit_or_delete_what_is_not_theirs(tenants, personas, target):
    client = _client(tenants.bob)
    persona = getattr(personas, target)
    for url in (f"/personas/{persona.id}/edit/", f"/personas/{persona.id}/delete/"):
        assert client.get(url).status_code == 403
        assert client.post(url, FORM).status_code == 403
    assert _row(persona.name) is not None and _row("Night Shift Coach") is None


def test_delete_asks_for_confirmation_then_deletes(tenants, personas):
    client = _client(tenants.bob)
    page = client.get(f"/personas/{personas.bobs.id}/delete/").content.decode()
    assert "Delete “Bob Helper”?" in page and _row("Bob Helper") is not None
    response = client.post(f"/personas/{personas.bobs.id}/delete/", follow=True)
    assert response.redirect_chain == [("/personas/", 302)]
    assert "Persona “Bob Helper” deleted." in response.content.decode()
    assert _row("Bob Helper") is None


@pytest.mark.parametrize("suffix", ["", "edit/", "delete/"])
@pytest.mark.parametrize("target", ["carols", "draft"])
def test_another_accounts_persona_or_a_draft_is_404_on_every_page(tenants, personas, suffix, target):
    client = _client(tenants.alice)
    url = f"/personas/{getattr(personas, target).id}/{suffix}"
    responses = [client.get(url), client.post(url, FORM)]
    # the persona page itself takes no POST (405); nowhere does the persona show
    assert [r.status_code for r in responses] == [404, 405 if suffix == "" else 404]
    assert all(b"SECRET-PROMPT" not in r.content and b"Carol Coach" not in r.content for r in responses)
