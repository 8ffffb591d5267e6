"""The API's limits, set once in settings and applied before a body is decoded, and
the refusals every /api/ route shares (issue 17): 413 for a body over the byte limit,
400 for one nested deeper than the depth limit, 415, 405 and 429 with Retry-After,
each in the documented shape {"error": {"code", "message", ...}}."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from accounts.models import Role
from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context
from aiplatform.api import parsers
from knowledge.models import DecisionUnit

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/decision-units/"


@pytest.fixture
def bearer(tenants):
    """alice's API key: no middleware reads the body of a Bearer request before the parser."""
    with account_context(tenants.a.id):
        _, raw = api_key_create(account=tenants.a, actor=tenants.alice_membership, name="limits", role=Role.OWNER)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _unit_count(tenants) -> int:
    with account_context(tenants.a.id):
        return DecisionUnit.objects.count()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_deeper_than_the_setting_is_a_400_before_decoding(tenants, bearer, settings, monkeypatch):
    # given a depth limit of 4, and a decoder that records whether it was called
    settings.API_JSON_MAX_DEPTH = 4
    decoded = []
    monkeypatch.setattr(parsers, "json", type("Spy", (), {"loads": staticmethod(lambda *a, **k: decoded.append(a))}))

    # when a body 5 levels deep is posted
    response = Client().generic("POST", UNITS, _nested(5), content_type="application/json", **bearer)

    # then it is a 400 parse error naming the limit, and the decoder never saw it
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "parse_error", "message": "JSON parse error - nested deeper than 4 levels."}
    }
    assert decoded == []


def test_json_at_the_depth_limit_is_decoded_and_brackets_in_strings_do_not_count(tenants, bearer, settings):
    # given a depth limit of 2
    settings.API_JSON_MAX_DEPTH = 2
    before = _unit_count(tenants)

    # when a unit is posted whose body is 2 deep with brackets inside its strings
    body = json.dumps({"name": '[[[[{{{{ \\" ]]', "tags": ["x"]})
    response = Client().generic("POST", UNITS, body, content_type="application/json", **bearer)

    # then the body was decoded (the serializer answered, not the parser)
    assert response.status_code in (201, 400), response.content
    assert response.json().get("error", {}).get("code") != "parse_error"
    if response.status_code == 201:
        assert _unit_count(tenants) == before + 1


@pytest.mark.parametrize(
    ("text", "depth"),
    [("1", 0), ('"[[["', 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('["]", ["\\"["]]', 2), ("[[", 2)],
)
def test_depth_scan(text, depth):
    assert parsers.json_depth(text) == depth


def test_a_body_over_the_byte_limit_is_a_413_naming_it(tenants, bearer, settings):
    # given a byte limit of 1,000 (below Django's upload limit)
    settings.API_JSON_MAX_BYTES = 1000
    before = _unit_count(tenants)

    # when a 5,000-byte JSON body is posted with an API key
    body = json.dumps({"name": "x" * 5000})
    response = Client().generic("POST", UNITS, body, content_type="application/json", **bearer)

    # then it is a 413 naming the limit, and nothing was created
    assert response.status_code == 413
    assert response.json() == {
        "error": {"code": "request_too_large", "message": "The request body exceeds the limit of 1000 bytes."}
    }
    assert _unit_count(tenants) == before


def test_a_body_without_a_length_is_read_only_up_to_the_limit():
    # given a 10 kB stream that declares no length
    stream = io.BytesIO(b"[" + b"1," * 5000 + b"1]")

    # when it is read with a limit of 100 bytes
    with pytest.raises(parsers.RequestTooLarge):
        parsers.read_bounded(stream, None, 100)

    # then no more than one byte past the limit was read
    assert stream.tell() == 101


def test_an_unsupported_media_type_is_a_415(tenants, bearer):
    response = Client().generic("POST", UNITS, "name=x", content_type="text/plain", **bearer)
    assert response.status_code == 415
    assert response.json() == {
        "error": {"code": "unsupported_media_type", "message": 'Unsupported media type "text/plain" in request.'}
    }


def test_a_method_a_route_does_not_have_is_a_405_with_allow(tenants, bearer):
    response = Client().delete(UNITS, **bearer)
    assert response.status_code == 405
    assert response.json() == {"error": {"code": "method_not_allowed", "message": 'Method "DELETE" not allowed.'}}
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("auth", ["api_key", "session"])
def test_past_the_request_budget_is_a_429_with_retry_after(tenants, bearer, settings, auth):
    # given a budget of 2 requests a minute
    settings.API_REQUESTS_PER_MINUTE = 2
    client = Client()
    headers = bearer if auth == "api_key" else {}
    if auth == "session":
        client.force_login(tenants.alice)

    # when a third request comes within the minute
    first, second, third = (client.get(UNITS, **headers) for _ in range(3))

    # then the first two pass and the third is a 429 that says when to come back
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    error = third.json()["error"]
    assert error["code"] == "rate_limited"
    assert 1 <= error["retry_after"] <= 61
    assert third["Retry-After"] == str(error["retry_after"])
    assert set(error) == {"code", "message", "retry_after"}


def test_the_budget_is_per_caller(tenants, settings):
    # given a budget of 1 request a minute, spent by alice
    settings.API_REQUESTS_PER_MINUTE = 1
    alice, carol = Client(), Client()
    alice.force_login(tenants.alice)
    carol.force_login(tenants.carol)
    assert alice.get(UNITS).status_code == 200
    assert alice.get(UNITS).status_code == 429

    # then carol still has hers
    assert carol.get(UNITS).status_code == 200


def test_a_datetime_filter_with_an_offset_postgres_cannot_hold_is_answered(tenants, bearer):
    # when the ledger is filtered with a -16:34 offset (Python takes it, PostgreSQL's limit is 15:59)
    response = Client().get("/api/v1/transactions/?created_to=1641-06-07T18:23:25-16:34", **bearer)
    # then it is the (empty) filtered list, not a 500
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


def test_a_datetime_filter_outside_the_years_is_a_400_naming_it(tenants, bearer):
    response = Client().get("/api/v1/transactions/?created_from=0001-01-01T00:00:00%2B05:00", **bearer)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "created_from": ["Enter a date and time within years 1 to 9999 (UTC)."]
    }
