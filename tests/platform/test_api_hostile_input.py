"""The API under hostile input (issue 17): whatever a client sends, the answer is
JSON in the documented shape {"error": {"code", "message", "fields"?}} and never a 5xx."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.tenancy.context import account_context
from knowledge.models import DecisionUnit
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/decision-units/"


@pytest.fixture
def alice(api_client, tenants):
    api_client.force_login(tenants.alice)
    return api_client


def _unit_names(tenants) -> list[str]:
    with account_context(tenants.a.id):
        return sorted(DecisionUnit.objects.values_list("name", flat=True))


def test_json_nested_5000_deep_is_a_400_parse_error(alice, tenants):
    # given alice signed in and the account's units as they are
    before = _unit_names(tenants)

    # when she posts a JSON body nested 5,000 levels deep
    response = alice.generic("POST", UNITS, "[" * 5000 + "]" * 5000, content_type="application/json")

    # then it is a 400 parse error in the API's shape and nothing was created
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"code": "parse_error", "message": "JSON parse error - nested deeper than 64 levels."}
    }
    assert _unit_names(tenants) == before


def test_json_body_over_the_upload_limit_is_a_413_in_the_api_shape(tenants, settings):
    # given alice signed in and a 1 KiB body limit
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client()
    client.force_login(tenants.alice)
    before = _unit_names(tenants)

    # when she posts a 10 KiB JSON body
    body = json.dumps({"name": "x" * 10_240})
    response = client.post(UNITS, body, content_type="application/json")

    # then it is 413 with the limit in the message, and nothing was created
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"code": "request_too_large", "message": "The request body exceeds the limit of 1024 bytes."}
    }
    assert _unit_names(tenants) == before


def test_a_10_mb_json_body_is_a_413_with_the_default_limit(tenants, settings):
    # given alice signed in and the default limit
    client = Client()
    client.force_login(tenants.alice)

    # when she posts a 10 MB JSON body
    response = client.post(UNITS, json.dumps({"name": "x" * 10_000_000}), content_type="application/json")

    # then it is 413 naming the limit
    assert response.status_code == 413
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert response.json()["error"] == {
        "code": "request_too_large",
        "message": f"The request body exceeds the limit of {limit} bytes.",
    }


def test_an_oversized_form_outside_the_api_keeps_django_behaviour(tenants, settings):
    # given a 1 KiB body limit
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client()
    client.force_login(tenants.alice)

    # when an HTML page (the sign-in form) gets a 10 KiB form body
    response = client.post("/auth/login/", {"login": "x" * 10_240, "password": "y"})

    # then it is Django's 400, not the API's JSON
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def test_nested_list_item_errors_come_as_dotted_fields(alice, tenants):
    # when a search names one valid and one invalid unit id
    response = alice.post(
        "/api/v1/knowledge/search/",
        {"query": "margins", "unit_ids": ["00000000-0000-0000-0000-000000000001", "nope"]},
        format="json",
    )

    # then the invalid item is named by its dotted path
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"unit_ids.1": ["Must be a valid UUID."]},
        }
    }


def test_persona_unit_ids_come_as_dotted_fields_too(alice, tenants):
    # given a persona of alice's account
    from tests.personas.factories import PersonaFactory  # noqa: PLC0415

    with account_context(tenants.a.id):
        persona = PersonaFactory(account=tenants.a, created_by=tenants.alice)

    # when its knowledge is set with a bad id in third place
    response = alice.put(
        f"/api/v1/personas/{persona.pk}/knowledge/",
        {"decision_units": ["00000000-0000-0000-0000-000000000001"] * 2 + ["bad"]},
        format="json",
    )

    # then the error names decision_units.2
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"decision_units.2": ["Must be a valid UUID."]}


def test_flatten_nested_objects_and_lists():
    # given DRF's nested detail of a list of objects
    from rest_framework.exceptions import ErrorDetail  # noqa: PLC0415

    from aiplatform.api.errors import flatten_fields  # noqa: PLC0415

    detail = {
        "name": [ErrorDetail("This field is required.", code="required")],
        "items": {2: {"quantity": [ErrorDetail("Ensure this value is greater than or equal to 1.")]}},
        "address": {"city": [ErrorDetail("This field may not be blank.")]},
        "tags": [[], [ErrorDetail("Not a valid string.")]],
    }

    # when it is flattened
    fields = flatten_fields(detail)

    # then every leaf has its dotted path
    assert fields == {
        "name": ["This field is required."],
        "items.2.quantity": ["Ensure this value is greater than or equal to 1."],
        "address.city": ["This field may not be blank."],
        "tags.1": ["Not a valid string."],
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("created_after=notadate", "created_after"),
        ("created_from=notadate", "created_from"),
        ("date_to=31-12-2026", "date_to"),
    ],
)
def test_transactions_reject_a_filter_they_cannot_use(alice, tenants, query, field):
    # given a funded ledger
    fund(tenants.a, "10")

    # when the list is filtered with an unknown or unparsable parameter
    response = alice.get(f"/api/v1/transactions/?{query}")

    # then it is 400 naming the parameter
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]


def test_an_unknown_transaction_filter_lists_the_usable_ones(alice, tenants):
    # when the ledger is filtered by a parameter it does not have
    response = alice.get("/api/v1/transactions/?created_after=2026-01-01&page=1")

    # then the error names it and says which filters exist
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {
                "created_after": ["Unknown filter. Filters here: created_from, created_to, date_from, date_to, type."]
            },
        }
    }


def test_results_reject_an_unknown_filter_but_accept_lang_and_paging(alice, tenants):
    # when the results are listed with an unknown filter
    bad = alice.get("/api/v1/results/?created_after=2026-01-01")
    # then it is 400 naming it
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["created_after"]

    # and the documented parameters still work
    good = alice.get("/api/v1/results/?lang=en&page=1&page_size=10&created_from=2026-01-01&status=completed")
    assert good.status_code == 200, good.content
    assert good.json()["results"] == []


def test_invitations_reject_a_bad_choice_filter(alice, tenants):
    # when alice lists invitations with an impossible status
    response = alice.get("/api/v1/invitations/?status=nonsense")
    # then it is 400 naming status
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["status"]


def test_the_400_handler_answers_json_under_api_and_html_elsewhere(settings):
    # given Django's 400 handler (a body guard tripped outside a DRF view)
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent  # noqa: PLC0415
    from django.test import RequestFactory  # noqa: PLC0415

    from aiplatform.api.errors import bad_request  # noqa: PLC0415

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    factory = RequestFactory()

    # when it renders an oversized body, too many fields, and an oversized form page
    too_big = bad_request(factory.post("/api/v1/anything/"), RequestDataTooBig("too big"))
    too_many = bad_request(
        factory.post("/api/v1/anything/"),
        TooManyFieldsSent("The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."),
    )
    page = bad_request(factory.post("/chats/"), RequestDataTooBig("too big"))

    # then the API ones are JSON in the documented shape and the page is Django's
    assert (too_big.status_code, json.loads(too_big.content)) == (
        413,
        {"error": {"code": "request_too_large", "message": "The request body exceeds the limit of 2048 bytes."}},
    )
    assert (too_many.status_code, json.loads(too_many.content)) == (
        400,
        {
            "error": {
                "code": "bad_request",
                "message": "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.",
            }
        },
    )
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


def test_a_detail_route_ignores_parameters_it_does_not_read(alice, tenants):
    # given one ledger row
    fund(tenants.a, "10")
    row = alice.get("/api/v1/transactions/").json()["results"][0]

    # when it is read with a parameter that is no filter
    response = alice.get(f"/api/v1/transactions/{row['id']}/?created_after=x")

    # then it is the row, as before
    assert (response.status_code, response.json()["id"]) == (200, row["id"])
