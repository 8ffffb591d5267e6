"""Every documented query parameter of every collection route refuses a value it cannot
parse (issue 17): an impossible choice, date, number, id or boolean is a 400 naming the
parameter, never an answer that quietly used a default. The parameters are read from the
served OpenAPI schema, so a route added later is covered without touching this file
(filtersets are also checked from the URL conf in test_api_filters.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

PAGING = {"page", "page_size", "format"}


def _bad_value(schema: dict) -> str | None:
    """A value the parameter's schema rules out; None for free text."""
    if "enum" in schema:
        return "nonsense-value"
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string" and fmt in ("date", "date-time"):
        return "notadate"
    if kind == "string" and fmt == "uuid":
        return "not-a-uuid"
    if kind in ("integer", "number"):
        return "notanumber"
    if kind == "boolean":
        return "maybe"
    if kind == "array":
        return _bad_value(schema.get("items", {}))
    return None


@pytest.fixture
def operator_alice(tenants):
    """alice (owner of account A) as a platform operator too, so staff lists answer her."""
    tenants.alice.role = User.PlatformRole.ADMIN
    tenants.alice.save(update_fields=["role"])
    client = Client()
    client.force_login(tenants.alice)
    return client


def test_every_documented_query_parameter_refuses_a_value_it_cannot_parse(operator_alice):
    # given the served schema's collection routes and their typed query parameters
    schema = operator_alice.get("/api/schema/?format=json").json()
    cases = [
        (path, param["name"], value)
        for path, operations in schema["paths"].items()
        if "get" in operations and "{" not in path
        for param in operations["get"].get("parameters", [])
        if param["in"] == "query" and param["name"] not in PAGING
        if (value := _bad_value(param.get("schema", {}))) is not None
    ]
    assert len(cases) > 40  # the walk found the API's parameters

    # when each gets a value it cannot parse
    wrong = []
    for path, name, value in cases:
        response = operator_alice.get(path, {name: value})
        fields = response.json().get("error", {}).get("fields") if response.status_code == 400 else None
        if fields is None or list(fields) != [name]:
            wrong.append(f"{path}?{name}={value}: {response.status_code} {response.content[:200]!r}")

    # then each is a 400 naming that parameter
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/api/v1/marketplace/?scope=everything", "scope"),
        ("/api/v1/marketplace/?sort=cheapest", "sort"),
        ("/api/v1/services/?lang=fr", "lang"),
        ("/api/v1/results/?lang=fr", "lang"),
    ],
)
def test_a_parameter_that_used_to_fall_back_quietly_is_refused(operator_alice, query, field):
    # when a choice the route does not offer is asked for
    response = operator_alice.get(query)

    # then it is a 400 naming the parameter and its choices
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert response.json()["error"]["fields"][field][0].startswith("Choose one of: ")


@pytest.mark.parametrize("query", ["/api/v1/marketplace/?scope=mine&sort=newest", "/api/v1/services/?lang=KO"])
def test_the_offered_choices_still_work(operator_alice, query):
    assert operator_alice.get(query).status_code == 200
