"""Every route that takes an object id answers 404 for another account's
object, to a member of the first account, by session and by API key, for
every method, and leaks nothing of it."""

import re

import pytest
from django.apps import apps
from django.test import Client
from django.urls import NoReverseMatch, resolve, reverse

from accounts.models import Account, ApiKey, Invitation, Membership, Role
from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context, rls_bypass
from tests.accounts.factories import ApiKeyFactory, InvitationFactory, MembershipFactory, UserFactory
from tests.tenancy.routes import id_routes
from tests.tenancy.tenant_rows import seed_every_tenant_table
from tests.tenancy.tenant_tables import tenant_models

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]


@pytest.fixture
def foreign(tenants):
    """Account B, filled with one object of every tenant model."""
    dave = UserFactory(email="dave-secret@example.com")
    MembershipFactory(account=tenants.b, user=dave, role=Role.VIEWER)
    InvitationFactory(account=tenants.b, email="invitee-secret@example.com")
    ApiKeyFactory(account=tenants.b, created_by=tenants.carol, name="secret-key-name", prefix="zzsecret")
    seed_every_tenant_table(tenants.b, tenants.carol)
    return tenants


def _foreign_ids(account: Account) -> dict[type, dict[str, str]]:
    """One id of each of the account's tenant models (one per model is enough: a
    route scopes by account, not by row), grouped by model."""
    with rls_bypass("test: collect the other account's ids"):
        ids: dict[type, dict[str, str]] = {Account: {"Account": str(account.pk)}}
        for model in tenant_models():
            if model is Account:
                continue
            pk = model.objects.filter(account=account).values_list("pk", flat=True).first()
            if pk is not None:
                ids[model] = {f"{model.__name__}:{pk}": str(pk)}
    return ids


def _words(name: str) -> list[str]:
    """ "AIGeneration" -> ["ai", "generation"], "top_up_rule" -> ["top", "up", "rule"]."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?=[A-Z][a-z]|\b|_|$)|[A-Z]?[a-z]+|\d+", name)]


def _singular(segment: str) -> list[str]:
    """The words of the path segment before the id, made singular ("analyses" ->
    ["analysis"], "top-ups" -> ["top", "up"])."""
    words = _words(segment.replace("-", "_"))
    if words:
        last = words[-1]
        if last.endswith("yses"):
            last = last[: -len("es")] + "is"
        elif last.endswith("ies"):
            last = last[: -len("ies")] + "y"
        elif last.endswith("s") and not last.endswith("ss"):
            last = last[:-1]
        words[-1] = last
    return words


def _contains(words: list[str], part: list[str]) -> bool:
    return bool(part) and any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))


def _named_models(route, url: str, sample_id: str, candidates: set[type]) -> set[type]:
    """The candidates a route names: the model in the path segment before the id
    ("campaigns/<pk>/" -> Campaign, "collaborators/<pk>/" -> ProjectCollaborator,
    "voices/<pk>/" -> VoiceModel; the closest match wins) or the model's whole name in
    the route's name ("top_up_rule_disable" -> TopUpRule)."""
    parts = url.strip("/").split("/")
    segment = _singular(parts[parts.index(sample_id) - 1]) if sample_id in parts[1:] else []
    route_words = _words(route.name.split(":")[-1].replace("-", "_"))
    words = {m: _words(m.__name__) for m in candidates}
    tiers = [lambda w: w == segment, lambda w: w[-len(segment) :] == segment, lambda w: _contains(w, segment)]
    for named in [*(tiers if segment else []), lambda w: _contains(route_words, w)]:
        if found := {m for m, w in words.items() if named(w)}:
            return found
    return set()


def _route_models(route, sample_id: str) -> frozenset[type] | None:
    """The models whose ids a route takes: a DRF route's viewset queryset model (an
    empty set when that model is not an account's: no account's id is one of its
    rows), else the models of the app the view belongs to (a page of one app shows
    that app's objects), narrowed to the ones the route names; None when nothing
    says (then every id is tried)."""
    try:
        url = reverse(route.name, kwargs={route.kwarg: sample_id})
    except NoReverseMatch:
        return None
    func = resolve(url).func
    view_class = getattr(func, "cls", None) or getattr(func, "view_class", None)
    queryset = getattr(view_class, "queryset", None)
    tenant = set(tenant_models())
    if queryset is not None:
        return frozenset({queryset.model} & tenant)
    app = apps.get_containing_app_config((view_class or func).__module__)
    models = {m for m in tenant if app is not None and m._meta.app_config is app}
    if not models:
        return None
    return frozenset(_named_models(route, url, sample_id, models) or models)


def _ids_for(route, ids: dict[type, dict[str, str]]) -> dict[str, str]:
    """The foreign ids to try on a route: those of its own models (one arbitrary id when
    its objects belong to no account, to show it still answers 404 and leaks nothing),
    every id when its models are unknown or have no row."""
    every = {label: pk for group in ids.values() for label, pk in group.items()}
    models = _route_models(route, ids[Account]["Account"])
    if models is None:
        return every
    if not models:
        return dict([next(iter(ids[Account].items()))])
    own = {label: pk for model in models for label, pk in ids.get(model, {}).items()}
    if own:
        return own
    app_models = {m for m in tenant_models() if m._meta.app_config in {n._meta.app_config for n in models}}
    return {label: pk for model in app_models for label, pk in ids.get(model, {}).items()} or every


def _snapshot(account: Account):
    with rls_bypass("test: snapshot"):
        return (
            sorted(Membership.objects.filter(account=account).values_list("id", "role")),
            sorted(Invitation.objects.filter(account=account).values_list("id", "status")),
            sorted(ApiKey.objects.filter(account=account).values_list("id", "revoked_at")),
            Account.objects.filter(pk=account.pk).values_list("name", "billing_email").get(),
        )


def _secrets(t) -> list[str]:
    return [
        "Account B",
        "carol@example.com",
        "dave-secret@example.com",
        "invitee-secret@example.com",
        "secret-key-name",
        "zzsecret",
    ]


def test_routes_with_an_object_id_are_discovered():
    names = {r.name for r in id_routes()}
    # the discovery sees both HTML and API routes, without a list to keep up to date
    assert {"member_role", "api_key_revoke", "member-detail", "api-key-detail", "my-account-switch"} <= names


@pytest.mark.parametrize("auth", ["session", "api_key"])
def test_foreign_object_ids_answer_404_and_leak_nothing(foreign, auth):
    t = foreign
    client = Client(raise_request_exception=True)
    headers = {}
    if auth == "session":
        client.force_login(t.alice)
    else:
        with account_context(t.a.id):
            _, raw = api_key_create(account=t.a, actor=t.alice_membership, name="probe", role=Role.OWNER)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    before = _snapshot(t.b)
    failures = []
    checked = 0
    ids = _foreign_ids(t.b)
    for route in id_routes():
        for label, obj_id in _ids_for(route, ids).items():
            try:
                url = reverse(route.name, kwargs={route.kwarg: obj_id})
            except NoReverseMatch:
                continue
            if auth == "api_key" and not url.startswith("/api/"):
                continue  # API keys authenticate the API only; HTML pages send them to sign in
            for method in METHODS:
                response = getattr(client, method)(url, **headers)
                checked += 1
                body = response.content.decode(errors="replace")
                leaked = [s for s in _secrets(t) if s in body]
                if response.status_code not in (404, 405) or leaked:
                    failures.append((method.upper(), url, label, response.status_code, leaked))
    assert failures == []
    assert checked > 100
    assert _snapshot(t.b) == before


def test_operator_routes_send_a_tenant_member_to_the_admin_login(foreign):
    client = Client()
    client.force_login(foreign.alice)
    with rls_bypass("test"):
        membership_id = Membership.objects.filter(account=foreign.b).values_list("pk", flat=True).first()
    response = client.get(f"/admin/accounts/membership/{membership_id}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_switching_to_a_foreign_account_is_refused(foreign):
    client = Client()
    client.force_login(foreign.alice)
    response = client.post(reverse("account_switch"), {"account_id": str(foreign.b.id)}, follow=True)
    assert "You are not a member of that account." in response.content.decode()
    assert client.get("/api/v1/me/").status_code == 200
    active = [a for a in client.get("/api/v1/accounts/").json()["results"] if a["is_active"]]
    assert [a["account"]["id"] for a in active] == [str(foreign.a.id)]
