"""Choosing the decision units a persona reads: the API (`/api/v1/personas/<id>/knowledge/`),
the Knowledge section of the persona page, and the admin's read-only listing.

Account A (alice owns, bob is a member, vera views) links its own units; account B
(carol) is the outsider, whose persona and unit are 404 and never change."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import InvalidInput
from knowledge.models import DecisionUnit
from personas.models import Persona, PersonaDecisionUnit
from personas.services import MAX_PERSONA_UNITS, persona_units_set
from tests.knowledge.factories import DecisionUnitFactory, DocumentFactory

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-0000-0000-000000000000"


@dataclass
class Units:
    freight: DecisionUnit  # account A, two documents
    margins: DecisionUnit  # account A, empty
    carols: DecisionUnit  # account B


@pytest.fixture
def units(tenants) -> Units:
    freight = DecisionUnitFactory(account=tenants.a, name="Freight playbook", chunk_count=12)
    for n in range(2):
        DocumentFactory(unit=freight, content=b"", sha256=f"{n:064d}")  # no file: counts are what matter here
    return Units(
        freight=freight,
        margins=DecisionUnitFactory(account=tenants.a, name="Margin strategy"),
        carols=DecisionUnitFactory(account=tenants.b, name="Carol secret unit"),
    )


def _url(persona: Persona) -> str:
    return f"/api/v1/personas/{persona.id}/knowledge/"


def _as(api_client, user):
    api_client.force_login(user)
    return api_client


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _link(account, persona: Persona, *units: DecisionUnit) -> None:
    with account_context(account.id):
        for unit in units:
            PersonaDecisionUnit.objects.create(account=account, persona=persona, decision_unit=unit)


def _links() -> list[tuple[str, str, str]]:
    """Every link of every account: (account, persona, unit)."""
    with rls_bypass("test: read back"):
        return sorted(PersonaDecisionUnit.objects.values_list("account__name", "persona__name", "decision_unit__name"))


def _summary(unit: DecisionUnit, documents: int) -> dict:
    return {
        "id": str(unit.id),
        "name": unit.name,
        "status": "active",
        "document_count": documents,
        "chunk_count": unit.chunk_count,
    }


# --- API: reading and replacing ----------------------------------------------------------


def test_a_viewer_reads_the_units_a_persona_reads(api_client, tenants, personas, units, viewer):
    # given alice's persona reads both of A's units
    _link(tenants.a, personas.alices, units.margins, units.freight)
    # when a viewer reads them
    response = _as(api_client, viewer.user).get(_url(personas.alices))
    # then they come by name, in brief
    assert response.status_code == 200
    assert response.json() == {"decision_units": [_summary(units.freight, 2), _summary(units.margins, 0)]}


def test_an_owner_links_units_and_a_second_put_replaces_the_set(api_client, tenants, personas, units):
    client = _as(api_client, tenants.alice)
    # when the owner links both units, then only the empty one
    first = client.put(_url(personas.bobs), {"decision_units": [str(units.freight.id), str(units.margins.id)]})
    second = client.put(_url(personas.bobs), {"decision_units": [str(units.margins.id)]}, format="json")
    # then each answer is the new set, and the second replaced the first
    assert first.status_code == 200
    assert first.json() == {"decision_units": [_summary(units.freight, 2), _summary(units.margins, 0)]}
    assert second.json() == {"decision_units": [_summary(units.margins, 0)]}
    assert _links() == [("Account A", "Bob Helper", "Margin strategy")]


def test_an_empty_list_unlinks_everything(api_client, tenants, personas, units):
    _link(tenants.a, personas.bobs, units.freight)
    response = _as(api_client, tenants.bob).put(_url(personas.bobs), {"decision_units": []}, format="json")
    assert response.status_code == 200
    assert response.json() == {"decision_units": []}
    assert _links() == []


def test_duplicates_count_once(api_client, tenants, personas, units):
    ids = [str(units.freight.id), str(units.freight.id).upper(), str(units.freight.id)]
    response = _as(api_client, tenants.bob).put(_url(personas.bobs), {"decision_units": ids}, format="json")
    assert response.status_code == 200
    assert response.json() == {"decision_units": [_summary(units.freight, 2)]}
    assert _links() == [("Account A", "Bob Helper", "Freight playbook")]


# --- API: who may ------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["carols", "draft", "missing"])
@pytest.mark.parametrize("method", ["get", "put"])
def test_a_foreign_draft_or_missing_persona_is_404(api_client, tenants, personas, units, target, method):
    # given B's persona reads B's unit
    _link(tenants.b, personas.carols, units.carols)
    persona_id = MISSING if target == "missing" else getattr(personas, target).id
    # when alice reads or sets its knowledge (with a valid body of her own units)
    response = getattr(_as(api_client, tenants.alice), method)(
        f"/api/v1/personas/{persona_id}/knowledge/", {"decision_units": [str(units.freight.id)]}, format="json"
    )
    # then it does not exist for her, and nothing changed
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "There is no such persona."}}
    assert b"Carol" not in response.content
    assert _links() == [("Account B", "Carol Coach", "Carol secret unit")]


@pytest.mark.parametrize("unit_id", ["carols", "missing"])
def test_a_foreign_or_missing_unit_is_404_and_the_set_stays(api_client, tenants, personas, units, unit_id):
    # given alice's persona reads the freight unit
    _link(tenants.a, personas.alices, units.freight)
    foreign = MISSING if unit_id == "missing" else str(units.carols.id)
    # when alice asks for the margins unit and another account's (or no) unit
    response = _as(api_client, tenants.alice).put(
        _url(personas.alices), {"decision_units": [str(units.margins.id), foreign]}, format="json"
    )
    # then the whole request is refused, and the old set is kept
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "There is no such decision unit."}}
    assert _links() == [("Account A", "Alice Advisor", "Freight playbook")]


def test_a_viewer_cannot_change_the_set(api_client, tenants, personas, units, viewer):
    response = _as(api_client, viewer.user).put(
        _url(personas.alices), {"decision_units": [str(units.freight.id)]}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert _links() == []


def test_a_member_sets_their_own_personas_units_but_not_anothers(api_client, tenants, personas, units):
    client = _as(api_client, tenants.bob)
    body = {"decision_units": [str(units.freight.id)]}
    own = client.put(_url(personas.bobs), body, format="json")
    others = client.put(_url(personas.alices), body, format="json")
    assert (own.status_code, others.status_code) == (200, 403)
    assert others.json() == {
        "error": {
            "code": "permission_denied",
            "message": "Only owners, admins and the persona's creator can change it.",
        }
    }
    assert _links() == [("Account A", "Bob Helper", "Freight playbook")]


def test_an_owner_gives_a_platform_persona_the_accounts_units_and_only_the_account_sees_it(
    api_client, tenants, personas, units
):
    # when alice (owner) links A's unit to the platform persona
    response = _as(api_client, tenants.alice).put(
        _url(personas.platform), {"decision_units": [str(units.freight.id)]}, format="json"
    )
    # then A reads it, B reads none of it
    assert response.status_code == 200
    assert response.json() == {"decision_units": [_summary(units.freight, 2)]}
    assert _as(api_client, tenants.carol).get(_url(personas.platform)).json() == {"decision_units": []}
    assert _links() == [("Account A", "Logistics Strategy", "Freight playbook")]


def test_a_member_cannot_give_a_platform_persona_the_accounts_units(api_client, tenants, personas, units):
    response = _as(api_client, tenants.bob).put(
        _url(personas.platform), {"decision_units": [str(units.freight.id)]}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "Only owners and admins can give a platform persona your knowledge.",
        }
    }
    assert _links() == []


def test_an_api_key_capped_at_viewer_reads_but_cannot_change(api_client, tenants, personas, units):
    with account_context(tenants.a.id):
        _, raw = api_key_create(account=tenants.a, actor=tenants.alice_membership, name="bot", role=Role.VIEWER)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    body = {"decision_units": [str(units.freight.id)]}
    read = api_client.get(_url(personas.alices), **headers)
    write = api_client.put(_url(personas.alices), body, format="json", **headers)
    assert (read.status_code, write.status_code) == (200, 403)
    assert _links() == []


# --- API: bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"decision_units": "not-a-list"}, {"decision_units": ['Expected a list of items but got type "str".']}),
        ({"decision_units": ["nope", MISSING, "1234"]},
         {"decision_units.0": ["Must be a valid UUID."], "decision_units.2": ["Must be a valid UUID."]}),
        ({"decision_units": None}, {"decision_units": ["This field may not be null."]}),
        ({}, {"decision_units": ["This field is required."]}),
        ({"decision_units": [MISSING] * 101}, {"decision_units": ["Ensure this field has no more than 100 elements."]}),
    ],
)  # fmt: skip
def test_a_malformed_body_is_a_validation_error(api_client, tenants, personas, units, body, fields):
    _link(tenants.a, personas.alices, units.freight)
    response = _as(api_client, tenants.alice).put(_url(personas.alices), body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "validation_error", "message": "Some fields are invalid.", "fields": fields}
    }
    assert _links() == [("Account A", "Alice Advisor", "Freight playbook")]


def test_the_service_caps_the_set_for_the_page_too(tenants, personas, units):
    # given more distinct ids than a persona may read (the page posts no serializer-checked list)
    ids = [str(units.freight.id)] + [f"{n:032x}" for n in range(1, MAX_PERSONA_UNITS + 1)]
    # then the service refuses before looking any of them up
    with pytest.raises(InvalidInput) as refused:
        persona_units_set(persona=personas.alices, actor=tenants.alice_membership, unit_ids=ids)
    assert refused.value.fields == {"decision_units": ["A persona reads at most 100 decision units."]}
    assert _links() == []


def test_a_body_that_is_not_an_object_is_a_validation_error(api_client, tenants, personas, units):
    response = _as(api_client, tenants.alice).put(_url(personas.alices), [str(units.freight.id)], format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "validation_error", "message": "Invalid data. Expected a dictionary, but got list."}
    }
    assert _links() == []


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_other_methods_are_not_allowed(api_client, tenants, personas, method):
    response = getattr(_as(api_client, tenants.alice), method)(_url(personas.alices))
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- API: query count --------------------------------------------------------------------


def _get_queries(client, persona: Persona) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(_url(persona))
    assert response.status_code == 200
    return len(captured)


def test_reading_the_set_costs_the_same_queries_however_many_units(api_client, tenants, personas, units):
    # given one persona reading one unit, another reading eight
    many = [DecisionUnitFactory(account=tenants.a) for _ in range(6)]
    _link(tenants.a, personas.bobs, units.freight)
    _link(tenants.a, personas.alices, units.freight, units.margins, *many)
    client = _as(api_client, tenants.alice)
    client.get(_url(personas.bobs))  # warm up: the first request of a user also records its last activity
    # then both answers cost the same: user (session in Redis), savepoint, user context, active
    # membership, tenant context, the persona, its units, release; plus the api_usage_logs row
    assert _get_queries(client, personas.bobs) == _get_queries(client, personas.alices) == 9


# --- the persona page ----------------------------------------------------------------------


def test_the_page_offers_the_accounts_units_with_the_linked_ones_checked(tenants, personas, units):
    _link(tenants.a, personas.bobs, units.freight)
    page = _client(tenants.alice).get(f"/personas/{personas.bobs.id}/").content.decode()
    assert 'data-testid="knowledge-form"' in page
    assert f'action="/personas/{personas.bobs.id}/knowledge/"' in page
    assert f'value="{units.freight.id}" checked>' in page
    assert f'value="{units.margins.id}">' in page
    assert "2 documents · 12 chunks" in page
    assert "Carol secret unit" not in page


def test_posting_the_form_saves_the_set_and_says_so(tenants, personas, units):
    # given the persona reads the freight unit
    _link(tenants.a, personas.bobs, units.freight)
    # when bob checks only the margins unit and saves
    response = _client(tenants.bob).post(
        f"/personas/{personas.bobs.id}/knowledge/", {"decision_units": [str(units.margins.id)]}, follow=True
    )
    # then he is back on the persona page, which lists the new set
    assert response.redirect_chain == [(f"/personas/{personas.bobs.id}/", 302)]
    page = response.content.decode()
    assert "Saved: “Bob Helper” reads 1 decision unit." in page
    assert f'value="{units.margins.id}" checked>' in page and f'value="{units.freight.id}">' in page
    assert _links() == [("Account A", "Bob Helper", "Margin strategy")]


def test_unchecking_everything_clears_the_set(tenants, personas, units):
    _link(tenants.a, personas.bobs, units.freight)
    response = _client(tenants.bob).post(f"/personas/{personas.bobs.id}/knowledge/", follow=True)
    assert "Saved: “Bob Helper” reads 0 decision units." in response.content.decode()
    assert _links() == []


def test_a_refused_save_is_shown_as_a_message_and_changes_nothing(tenants, personas, units):
    _link(tenants.a, personas.bobs, units.freight)
    response = _client(tenants.bob).post(
        f"/personas/{personas.bobs.id}/knowledge/", {"decision_units": [str(units.carols.id)]}, follow=True
    )
    assert response.redirect_chain == [(f"/personas/{personas.bobs.id}/", 302)]
    assert "There is no such decision unit." in response.content.decode()
    assert _links() == [("Account A", "Bob Helper", "Freight playbook")]


def test_a_member_sees_a_platform_personas_units_without_the_form_and_cannot_post(tenants, personas, units):
    # given alice gave the platform persona A's freight unit
    _link(tenants.a, personas.platform, units.freight)
    client = _client(tenants.bob)
    # then bob sees it listed, with no form
    page = client.get(f"/personas/{personas.platform.id}/").content.decode()
    assert "Freight playbook" in page and 'data-testid="knowledge-form"' not in page
    assert "Owners and admins of your account choose which knowledge a platform persona reads." in page
    # and a forged post is refused with a message
    response = client.post(
        f"/personas/{personas.platform.id}/knowledge/", {"decision_units": [str(units.margins.id)]}, follow=True
    )
    assert "Only owners and admins can give a platform persona your knowledge." in response.content.decode()
    assert _links() == [("Account A", "Logistics Strategy", "Freight playbook")]


def test_a_viewer_cannot_post(tenants, personas, units, viewer):
    response = _client(viewer.user).post(
        f"/personas/{personas.alices.id}/knowledge/", {"decision_units": [str(units.freight.id)]}
    )
    assert response.status_code == 403
    assert _links() == []


def test_without_units_the_page_links_to_knowledge(tenants, personas):
    page = _client(tenants.alice).get(f"/personas/{personas.alices.id}/").content.decode()
    assert 'data-testid="no-units"' in page and 'href="/knowledge/"' in page
    assert 'data-testid="knowledge-form"' not in page


@pytest.mark.parametrize("target", ["carols", "draft"])
def test_another_accounts_persona_is_404_on_the_knowledge_route(tenants, personas, units, target):
    url = f"/personas/{getattr(personas, target).id}/knowledge/"
    response = _client(tenants.alice).post(url, {"decision_units": [str(units.freight.id)]})
    assert response.status_code == 404
    assert _links() == []


def test_the_knowledge_route_takes_only_posts(tenants, personas):
    assert _client(tenants.alice).get(f"/personas/{personas.alices.id}/knowledge/").status_code == 405


# --- admin ---------------------------------------------------------------------------------


def test_operators_see_every_accounts_links_on_the_persona(tenants, personas, units, operator):
    _link(tenants.a, personas.platform, units.freight)
    _link(tenants.b, personas.platform, units.carols)
    client = Client()
    client.force_login(operator)
    page = client.get(f"/admin/personas/persona/{personas.platform.id}/change/").content.decode()
    assert "<div>Account A: Freight playbook</div><div>Account B: Carol secret unit</div>" in page
