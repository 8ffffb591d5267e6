"""/api/v1/api-keys/: creating (the secret is shown once, only its SHA-256 is
stored), listing (never the secret) and revoking keys."""

from __future__ import annotations

import hashlib
import re

import pytest

from accounts.models import Account, ApiKey, Role
from accounts.tenancy.context import account_context
from tests.accounts.factories import ApiKeyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys/"
KEY_FORMAT = re.compile(r"^aip_([a-z0-9]{8})_[A-Za-z0-9_-]{43}$")


def _keys(account: Account) -> list[tuple[str, str, bool]]:
    """(name, role, active) of every key of `account`."""
    with account_context(account.id):
        return [(k.name, k.role, k.is_active) for k in ApiKey.objects.filter(account=account).order_by("name")]


def test_admin_creates_a_key_and_sees_its_secret_once(api_client, tenants):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she creates a key
    response = api_client.post(URL, {"name": "  CI deploys ", "role": "member"}, format="json")

    # then the answer holds the secret, in the documented format
    assert response.status_code == 201
    body = response.json()
    secret = body["key"]
    match = KEY_FORMAT.match(secret)
    assert match is not None
    assert {k: body[k] for k in ("name", "prefix", "role", "created_by", "last_used_at", "revoked_at")} == {
        "name": "CI deploys",
        "prefix": match.group(1),
        "role": "member",
        "created_by": "alice@example.com",
        "last_used_at": None,
        "revoked_at": None,
    }
    # and only its SHA-256 digest and visible prefix are stored
    with account_context(tenants.a.id):
        row = ApiKey.objects.filter(pk=body["id"]).values().get()
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] == match.group(1)
    assert all(secret not in str(value) for value in row.values())


def test_listing_and_reading_keys_never_shows_the_secret(api_client, tenants):
    # given a key alice created in A
    api_client.force_login(tenants.alice)
    created = api_client.post(URL, {"name": "CI"}, format="json").json()
    secret = created["key"]

    # when she lists the keys and reads this one
    listing = api_client.get(URL)
    detail = api_client.get(f"{URL}{created['id']}/")

    # then the prefix is shown, the secret never
    assert listing.status_code == 200 and detail.status_code == 200
    assert [(k["name"], k["prefix"]) for k in listing.json()["results"]] == [("CI", created["prefix"])]
    assert "key" not in listing.json()["results"][0]
    assert "key" not in detail.json()
    assert secret not in listing.content.decode()
    assert secret not in detail.content.decode()


def test_keys_of_another_account_are_invisible(api_client, tenants):
    # given a key in A and one in B
    ApiKeyFactory(account=tenants.a, name="a-key", created_by=tenants.alice)
    foreign = ApiKeyFactory(account=tenants.b, name="b-key", created_by=tenants.carol)
    api_client.force_login(tenants.alice)

    # when alice lists keys and reads B's by id
    listing = api_client.get(URL)
    detail = api_client.get(f"{URL}{foreign.pk}/")

    # then she sees only A's
    assert [k["name"] for k in listing.json()["results"]] == ["a-key"]
    assert detail.status_code == 404


@pytest.mark.parametrize("actor_role", [Role.MEMBER, Role.VIEWER])
def test_member_or_viewer_cannot_create_or_list_keys(api_client, tenants, actor_role):
    # given a member or viewer of A, and an existing key
    actor = UserFactory(email="actor@example.com")
    MembershipFactory(account=tenants.a, user=actor, role=actor_role)
    ApiKeyFactory(account=tenants.a, name="existing", created_by=tenants.alice)
    api_client.force_login(actor)

    # when they create a key and list keys
    created = api_client.post(URL, {"name": "mine"}, format="json")
    listing = api_client.get(URL)

    # then both are forbidden and no key was added
    assert (created.status_code, listing.status_code) == (403, 403)
    assert created.json()["error"]["code"] == "permission_denied"
    assert _keys(tenants.a) == [("existing", "member", True)]


def test_admin_cannot_create_a_key_above_their_role(api_client, tenants):
    # given dave, admin of A
    dave = UserFactory(email="dave@example.com")
    MembershipFactory(account=tenants.a, user=dave, role=Role.ADMIN)
    api_client.force_login(dave)

    # when he asks for an owner key
    response = api_client.post(URL, {"name": "root", "role": "owner"}, format="json")

    # then it is forbidden and no key exists
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "permission_denied", "message": "A key cannot have a role above yours."}
    }
    assert _keys(tenants.a) == []


def test_a_key_needs_a_name(api_client, tenants):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she creates a key without a name
    response = api_client.post(URL, {"role": "viewer"}, format="json")

    # then the error names the field and no key exists
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["This field is required."]}
    assert _keys(tenants.a) == []


def test_admin_revokes_a_key(api_client, tenants):
    # given a key of A
    key = ApiKeyFactory(account=tenants.a, name="old", created_by=tenants.alice)
    api_client.force_login(tenants.alice)

    # when alice revokes it
    response = api_client.delete(f"{URL}{key.pk}/")

    # then it is revoked, still listed as such
    assert response.status_code == 204
    assert _keys(tenants.a) == [("old", "member", False)]
    assert api_client.get(URL).json()["results"][0]["revoked_at"] is not None


def test_revoking_twice_is_409(api_client, tenants):
    # given a revoked key of A
    key = ApiKeyFactory(account=tenants.a, name="old", created_by=tenants.alice)
    api_client.force_login(tenants.alice)
    api_client.delete(f"{URL}{key.pk}/")
    with account_context(tenants.a.id):
        revoked_at = ApiKey.objects.get(pk=key.pk).revoked_at

    # when she revokes it again
    response = api_client.delete(f"{URL}{key.pk}/")

    # then it is a conflict and the first revocation time stands
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "already_revoked", "message": "This key is already revoked."}}
    with account_context(tenants.a.id):
        assert ApiKey.objects.get(pk=key.pk).revoked_at == revoked_at


def test_revoking_a_foreign_key_is_404(api_client, tenants):
    # given a key of B
    key = ApiKeyFactory(account=tenants.b, name="b-key", created_by=tenants.carol)
    api_client.force_login(tenants.alice)

    # when alice revokes it by id
    response = api_client.delete(f"{URL}{key.pk}/")

    # then it does not exist for her and stays active
    assert response.status_code == 404
    assert _keys(tenants.b) == [("b-key", "member", True)]
