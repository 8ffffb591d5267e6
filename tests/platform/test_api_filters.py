"""Every filterset of the API refuses what it cannot use (issue 17): a parameter it does
not know, and a value one of its filters cannot parse, are a 400 naming the parameter,
never the unfiltered list. The list routes are read from the URL configuration, so a
filterset added later is covered without touching this file."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import User
from aiplatform.api.filters import DjangoFilterBackend, _param_names

pytestmark = pytest.mark.django_db


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _filtered_lists() -> list[tuple[str, type, type]]:
    """(path, view, filterset) of every API list route whose view has a filterset."""
    found = {}
    for route, pattern in _patterns(get_resolver().url_patterns):
        view = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None) or {}
        if not route.startswith("api/") or view is None or actions.get("get") != "list" or "format" in route:
            continue
        if not (getattr(view, "filterset_class", None) or getattr(view, "filterset_fields", None)):
            continue
        queryset = view.queryset if view.queryset is not None else view.filterset_class._meta.model.objects.all()
        filterset = DjangoFilterBackend().get_filterset_class(view, queryset)
        found["/" + route.replace("^", "").replace("$", "")] = (view, filterset)
    return [(path, view, filterset) for path, (view, filterset) in sorted(found.items())]


LISTS = _filtered_lists()


def _bad_value(field: forms.Field) -> str | None:
    """A value the form field cannot parse; None for one that takes any text."""
    if isinstance(field, forms.DateField | forms.DateTimeField):
        return "notadate"
    if isinstance(field, forms.IntegerField):  # also DecimalField and FloatField
        return "notanumber"
    if isinstance(field, forms.UUIDField | forms.ModelChoiceField):
        return "not-an-id"
    if isinstance(field, forms.NullBooleanField):
        return "maybe"
    if isinstance(field, forms.ChoiceField):  # also MultipleChoiceField
        return "nonsense"
    if isinstance(field, forms.CharField):
        return None
    raise AssertionError(f"no unparsable value known for {type(field).__name__}: add one to _bad_value")


def _bad_params() -> list[tuple[str, str, str]]:
    cases = []
    for path, _view, filterset in LISTS:
        for name, field in filterset.base_filters.items():
            form_field = field.field
            if (value := _bad_value(form_field)) is None:
                continue
            cases.extend((path, param, value) for param in sorted(_param_names(name, form_field.widget)))
    return cases


@pytest.fixture
def alice(api_client, tenants):
    """alice owns account A and is a platform operator too, so the operators' lists
    (prompt templates, experiments) answer her as well."""
    tenants.alice.role = User.PlatformRole.ADMIN
    tenants.alice.save(update_fields=["role"])
    api_client.force_login(tenants.alice)
    return api_client


def test_the_api_has_filtersets_to_check():
    # the discovery finds the known ones (a broken walk would make the tests below vacuous)
    paths = {path for path, _view, _filterset in LISTS}
    assert {"/api/v1/transactions/", "/api/v1/results/", "/api/v1/invitations/"} <= paths


@pytest.mark.parametrize("path", [path for path, _view, _filterset in LISTS])
def test_every_filtered_list_rejects_an_unknown_parameter(alice, path):
    # when a list with filters is asked for one it does not have
    response = alice.get(f"{path}?created_after=2026-01-01")

    # then it is 400 naming the parameter, in the documented shape
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["created_after"]
    assert error["fields"]["created_after"][0].startswith("Unknown filter. Filters here: ")


@pytest.mark.parametrize(("path", "param", "value"), _bad_params())
def test_every_filter_rejects_a_value_it_cannot_parse(alice, path, param, value):
    # when one filter gets a value it cannot parse
    response = alice.get(path, {param: value})

    # then it is 400 naming that parameter, not the unfiltered list
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [param]


@pytest.mark.parametrize("value", ["true", "false", "True", "1", "0"])
def test_a_boolean_filter_takes_true_and_false(alice, value):
    # when the results are filtered by a boolean in any spelling it documents
    response = alice.get("/api/v1/results/", {"is_public": value})

    # then it is a list
    assert response.status_code == 200, response.content
