"""The personas API: who sees which personas, who changes them, what is refused,
and that the system prompt reaches only those who may edit the persona."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.ai.registry import model_names
from personas.models import Persona
from tests.personas.factories import MODEL, PersonaFactory, PlatformPersonaFactory, registry_model

pytestmark = pytest.mark.django_db

URL = "/api/v1/personas/"
NEW = {
    "name": "Ops Buddy",
    "role_title": "Warehouse operations coach",
    "system_prompt": "NEW-SECRET-PROMPT: coach the night shift.",
    "model_config": {"model": MODEL, "temperature": 0.3, "max_tokens": 600},
}


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["name"] for p in response.json()["results"]]


def _as(api_client, user):
    api_client.force_login(user)
    return api_client


def _all_rows() -> list[tuple]:
    with rls_bypass("test: read back"):
        return sorted(Persona.objects.values_list("name", "role_title", "model_config"))


# --- reading ---------------------------------------------------------------------------


def test_a_member_sees_public_platform_personas_and_their_accounts_own(api_client, tenants, personas):
    assert _names(_as(api_client, tenants.bob).get(URL)) == ["Logistics Strategy", "Alice Advisor", "Bob Helper"]


def test_the_other_account_sees_the_platform_persona_and_only_its_own(api_client, tenants, personas):
    assert _names(_as(api_client, tenants.carol).get(URL)) == ["Logistics Strategy", "Carol Coach"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?scope=platform", ["Logistics Strategy"]),
        ("?scope=account", ["Alice Advisor", "Bob Helper"]),
        ("?search=route", ["Bob Helper"]),
        ("?search=ALICE", ["Alice Advisor"]),
        ("?scope=account&search=strategy", []),
    ],
)
def test_the_list_filters_by_scope_and_searches_name_and_role(api_client, tenants, personas, query, expected):
    assert _names(_as(api_client, tenants.alice).get(URL + query)) == expected


def test_an_unknown_scope_is_a_validation_error(api_client, tenants, personas):
    response = _as(api_client, tenants.alice).get(URL + "?scope=everything")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"scope": ['"everything" is not a valid choice.']},
        }
    }


def test_the_list_shows_card_fields_and_the_prompt_only_where_allowed(api_client, tenants, personas):
    # when bob (a member) lists
    rows = {p["name"]: p for p in _as(api_client, tenants.bob).get(URL).json()["results"]}
    # then he gets his own persona's prompt, and no other
    assert {name: ("system_prompt" in row, row["can_edit"], row["scope"]) for name, row in rows.items()} == {
        "Logistics Strategy": (False, False, "platform"),
        "Alice Advisor": (False, False, "account"),
        "Bob Helper": (True, True, "account"),
    }
    assert rows["Bob Helper"]["system_prompt"] == "BOB-SECRET-PROMPT for routes."
    assert rows["Alice Advisor"]["initials"] == "AA"
    assert rows["Logistics Strategy"]["model_config"] == {"model": MODEL, "temperature": 0.5, "max_tokens": 500}


def test_an_owner_sees_every_prompt_of_the_account_but_never_a_platform_prompt(api_client, tenants, personas):
    client = _as(api_client, tenants.alice)
    body = client.get(URL).content.decode()
    assert "ALICE-SECRET-PROMPT" in body and "BOB-SECRET-PROMPT" in body
    assert "PLATFORM-SECRET-PROMPT" not in body
    platform = client.get(f"{URL}{personas.platform.id}/").json()
    assert "system_prompt" not in platform and platform["name"] == "Logistics Strategy"


@pytest.mark.parametrize("who", ["bob", "viewer"])
def test_a_member_who_may_not_edit_never_receives_the_prompt(api_client, tenants, personas, viewer, who):
    user = tenants.bob if who == "bob" else viewer.user
    client = _as(api_client, user)
    bodies = [client.get(URL).content.decode(), client.get(f"{URL}{personas.alices.id}/").content.decode(),
              client.get(f"{URL}{personas.platform.id}/").content.decode()]  # fmt: skip
    leaked = [
        s for s in ("ALICE-SECRET", "PLATFORM-SECRET", "DRAFT-SECRET", "CAROL-SECRET") if any(s in b for b in bodies)
    ]
    assert leaked == []
    assert "system_prompt" not in client.get(f"{URL}{personas.alices.id}/").json()


@pytest.mark.parametrize("target", ["carols", "draft", "missing"])
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_foreign_draft_or_missing_persona_is_404_on_every_method(api_client, tenants, personas, target, method):
    persona_id = "00000000-0000-0000-0000-000000000000" if target == "missing" else getattr(personas, target).id
    before = _all_rows()
    response = getattr(_as(api_client, tenants.alice), method)(f"{URL}{persona_id}/", NEW, format="json")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "There is no such persona."}}
    assert _all_rows() == before


def test_an_api_key_reads_with_its_accounts_visibility(api_client, tenants, personas):
    with account_context(tenants.a.id):
        _, raw = api_key_create(account=tenants.a, actor=tenants.alice_membership, name="bot", role=Role.VIEWER)
    response = api_client.get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}")
    # the key is capped at viewer: it lists, but does not see prompts
    assert _names(response) == ["Logistics Strategy", "Alice Advisor", "Bob Helper"]
    assert all("system_prompt" not in p for p in response.json()["results"])


# --- writing ---------------------------------------------------------------------------


def test_a_member_creates_a_private_persona(api_client, tenants, persona_model):
    response = _as(api_client, tenants.bob).post(URL, {**NEW, "is_public": True}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["scope"], body["is_public"], body["can_edit"]) == ("Ops Buddy", "account", False, True)
    assert body["system_prompt"] == NEW["system_prompt"]
    with rls_bypass("test: read back"):
        row = Persona.objects.get(pk=body["id"])
    assert (row.account_id, row.created_by_id, row.is_public) == (tenants.a.id, tenants.bob.id, False)
    assert row.model_config == {"model": MODEL, "temperature": 0.3, "max_tokens": 600}


def test_defaults_fill_temperature_and_max_tokens(api_client, tenants, persona_model):
    response = _as(api_client, tenants.bob).post(URL, {**NEW, "model_config": {"model": MODEL}}, format="json")
    assert response.json()["model_config"] == {"model": MODEL, "temperature": 0.7, "max_tokens": 2000}


def test_a_viewer_cannot_create(api_client, viewer, persona_model):
    response = _as(api_client, viewer.user).post(URL, NEW, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert _all_rows() == []


OUT_OF_RANGE = "Must be between 1 and 2000, the model's maximum output."


@pytest.mark.parametrize(
    "config, fields",
    [
        ({"model": MODEL, "temperature": 2.5}, {"temperature": ["Must be between 0 and 2."]}),
        ({"model": MODEL, "temperature": -0.1}, {"temperature": ["Must be between 0 and 2."]}),
        ({"model": MODEL, "temperature": "hot"}, {"temperature": ["Enter a number."]}),
        ({"model": MODEL, "max_tokens": 2001}, {"max_tokens": [OUT_OF_RANGE]}),
        ({"model": MODEL, "max_tokens": 0}, {"max_tokens": [OUT_OF_RANGE]}),
        ({"model": MODEL, "max_tokens": 1.5}, {"max_tokens": ["Enter a whole number."]}),
        ({"model": MODEL, "top_p": 1}, {"model_config": ["Unknown settings: top_p."]}),
        ({}, {"model": ["Choose a model."]}),
    ],
)  # fmt: skip
def test_model_config_is_validated_field_by_field(api_client, tenants, persona_model, config, fields):
    response = _as(api_client, tenants.bob).post(URL, {**NEW, "model_config": config}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "validation_error", "message": "Some fields are invalid.", "fields": fields}
    }
    assert _all_rows() == []


@pytest.mark.parametrize("model", ["no-such-model", "retired-model"])
def test_the_model_must_exist_in_the_registry_and_be_enabled(api_client, tenants, persona_model, model):
    registry_model("retired-model", enabled=False)
    response = _as(api_client, tenants.bob).post(URL, {**NEW, "model_config": {"model": model}}, format="json")
    assert response.status_code == 400
    expected = f"The model '{model}' is not available. Choose one of: {', '.join(model_names())}."
    assert response.json()["error"]["fields"] == {"model": [expected]}
    assert "retired-model" not in model_names()


def test_text_fields_are_required_and_checked(api_client, tenants, persona_model):
    body = {**NEW, "name": "  ", "system_prompt": "", "icon_url": "javascript:alert(1)"}
    response = _as(api_client, tenants.bob).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "name": ["This field is required."],
        "system_prompt": ["This field is required."],
        "icon_url": ["Enter an http(s) URL, or leave it empty to show initials."],
    }


def test_a_creator_edits_their_own_persona(api_client, tenants, personas):
    response = _as(api_client, tenants.bob).patch(
        f"{URL}{personas.bobs.id}/", {"role_title": "Senior route planner"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["role_title"], response.json()["name"]) == ("Senior route planner", "Bob Helper")


def test_an_owner_edits_any_persona_of_the_account(api_client, tenants, personas):
    response = _as(api_client, tenants.alice).put(f"{URL}{personas.bobs.id}/", NEW, format="json")
    assert response.status_code == 200
    with rls_bypass("test: read back"):
        row = Persona.objects.get(pk=personas.bobs.id)
    assert (row.name, row.system_prompt, row.created_by_id) == ("Ops Buddy", NEW["system_prompt"], tenants.bob.id)


@pytest.mark.parametrize(
    "who, target",
    [("bob", "alices"), ("viewer", "bobs"), ("alice", "platform"), ("bob", "platform")],
)
def test_others_cannot_change_or_delete(api_client, tenants, personas, viewer, who, target):
    user = {"bob": tenants.bob, "alice": tenants.alice, "viewer": viewer.user}[who]
    client = _as(api_client, user)
    url = f"{URL}{getattr(personas, target).id}/"
    before = _all_rows()
    responses = [client.patch(url, {"name": "Hijacked"}, format="json").status_code, client.delete(url).status_code]
    assert responses == [403, 403]
    assert _all_rows() == before


def test_an_owner_deletes_a_members_persona(api_client, tenants, personas):
    response = _as(api_client, tenants.alice).delete(f"{URL}{personas.bobs.id}/")
    assert response.status_code == 204
    with rls_bypass("test: read back"):
        assert not Persona.objects.filter(pk=personas.bobs.id).exists()


# --- query count -----------------------------------------------------------------------

# User (session in Redis), savepoint, user context, active membership, tenant context,
# COUNT, the page, release; plus the seed 003 api_usage_logs row.
LIST_QUERIES = 9


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(api_client, tenants, persona_model, rows):
    for i in range(rows - 1):
        PersonaFactory(account=tenants.a, created_by=tenants.bob if i % 2 else tenants.alice)
    PlatformPersonaFactory()
    client = _as(api_client, tenants.bob)
    client.get(URL)  # warm up: the first request of a user also records its last activity
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.json()["count"] == rows
    assert len(captured) == LIST_QUERIES
