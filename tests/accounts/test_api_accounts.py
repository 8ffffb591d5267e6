"""/api/v1/accounts/: the accounts I belong to, creating one, switching the active one."""

from __future__ import annotations

import pytest

from accounts.models import Account, Membership, Role
from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context, rls_bypass
from accounts.tenancy.middleware import SESSION_KEY
from tests.accounts.factories import AccountFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _account_ids(response) -> list[str]:
    return [row["account"]["id"] for row in response.json()["results"]]


def _all_memberships() -> set[tuple[str, str, str]]:
    with rls_bypass("test assertion"):
        return set(Membership.objects.values_list("account__name", "user__email", "role"))


def test_list_shows_only_my_accounts_with_my_role(api_client, tenants):
    # given bob, member of A, who is also a viewer of a third account
    other = AccountFactory(name="Zeta Studio")
    MembershipFactory(account=other, user=tenants.bob, role=Role.VIEWER)
    api_client.force_login(tenants.bob)

    # when he lists his accounts
    response = api_client.get("/api/v1/accounts/")

    # then he sees A and Zeta (by name), with his role, and never carol's B
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(r["account"]["name"], r["role"], r["is_active"]) for r in body["results"]] == [
        ("Account A", "member", True),
        ("Zeta Studio", "viewer", False),
    ]
    assert str(tenants.b.id) not in _account_ids(response)


def test_retrieve_my_account(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she reads account A
    response = api_client.get(f"/api/v1/accounts/{tenants.a.id}/")

    # then she gets it with its plan limits
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "owner"
    assert body["is_active"] is True
    assert {k: body["account"][k] for k in ("id", "name", "is_personal", "plan_type", "user_limit")} == {
        "id": str(tenants.a.id),
        "name": "Account A",
        "is_personal": False,
        "plan_type": "team",
        "user_limit": 10,
    }


def test_retrieve_a_foreign_account_is_404(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she asks for carol's account B by id
    response = api_client.get(f"/api/v1/accounts/{tenants.b.id}/")

    # then it does not exist for her
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_create_team_account_makes_me_its_owner(api_client, tenants):
    # given bob signed in
    api_client.force_login(tenants.bob)

    # when he creates a team account
    response = api_client.post("/api/v1/accounts/", {"name": "  Bob's Team  "}, format="json")

    # then it exists with the team plan limits and bob as its only owner
    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "owner"
    assert {k: body["account"][k] for k in ("name", "is_personal", "plan_type", "user_limit", "billing_email")} == {
        "name": "Bob's Team",
        "is_personal": False,
        "plan_type": "team",
        "user_limit": 10,
        "billing_email": "bob@example.com",
    }
    with rls_bypass("test assertion"):
        account = Account.objects.get(pk=body["account"]["id"])
        assert list(Membership.objects.filter(account=account).values_list("user__email", "role")) == [
            ("bob@example.com", "owner")
        ]
    assert (account.creator_limit, account.storage_limit_gb) == (20, 200)


def test_create_account_without_a_name_is_400_and_creates_nothing(api_client, tenants):
    # given bob signed in
    api_client.force_login(tenants.bob)
    before = _all_memberships()

    # when he sends no name and an unknown plan
    response = api_client.post("/api/v1/accounts/", {"plan_type": "galactic"}, format="json")

    # then the error names both fields and no account was created
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"name": ["This field is required."], "plan_type": ['"galactic" is not a valid choice.']},
        }
    }
    assert _all_memberships() == before
    with rls_bypass("test assertion"):
        assert Account.objects.count() == 2


def test_switch_changes_the_active_account_for_the_next_request(api_client, tenants):
    # given alice, owner of A, who also owns a second account
    second = AccountFactory(name="Alice Labs", owner=tenants.alice)
    api_client.force_login(tenants.alice)
    assert api_client.get("/api/v1/members/").json()["count"] == 2  # A: alice and bob

    # when she switches to the second account
    response = api_client.post(f"/api/v1/accounts/{second.id}/switch/")

    # then the answer marks it active, the session remembers it...
    assert response.status_code == 200
    assert (response.json()["account"]["name"], response.json()["is_active"]) == ("Alice Labs", True)
    assert api_client.session[SESSION_KEY] == str(second.id)
    # ...and the next requests act in it
    listing = api_client.get("/api/v1/accounts/").json()["results"]
    assert [(r["account"]["name"], r["is_active"]) for r in listing] == [("Account A", False), ("Alice Labs", True)]
    members = api_client.get("/api/v1/members/").json()
    assert [m["user"]["email"] for m in members["results"]] == ["alice@example.com"]


def test_switch_to_a_foreign_account_is_404_and_keeps_the_active_one(api_client, tenants):
    # given alice signed in, acting in A
    api_client.force_login(tenants.alice)
    api_client.post(f"/api/v1/accounts/{tenants.a.id}/switch/")

    # when she tries to switch to carol's B
    response = api_client.post(f"/api/v1/accounts/{tenants.b.id}/switch/")

    # then it is not found and she still acts in A
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api_client.session[SESSION_KEY] == str(tenants.a.id)
    members = api_client.get("/api/v1/members/").json()
    assert sorted(m["user"]["email"] for m in members["results"]) == ["alice@example.com", "bob@example.com"]


def test_a_stale_session_account_falls_back_to_a_current_membership(api_client, tenants):
    # given bob's session points at an account he was removed from
    AccountFactory(name="Bob Solo", owner=tenants.bob)
    api_client.force_login(tenants.bob)
    api_client.post(f"/api/v1/accounts/{tenants.a.id}/switch/")
    with rls_bypass("test setup: remove bob from A"):
        Membership.objects.filter(pk=tenants.bob_membership.pk).delete()

    # when he makes his next request
    response = api_client.get("/api/v1/accounts/")

    # then he acts in the account he still belongs to, never in A
    assert [(r["account"]["name"], r["is_active"]) for r in response.json()["results"]] == [("Bob Solo", True)]
    members = api_client.get("/api/v1/members/").json()
    assert [m["user"]["email"] for m in members["results"]] == ["bob@example.com"]


def _alice_key_for_a(tenants) -> str:
    with account_context(tenants.a.id):
        _, raw = api_key_create(account=tenants.a, actor=tenants.alice_membership, name="ci", role=Role.ADMIN)
    return raw


def test_an_api_key_sees_only_its_own_account(api_client, tenants):
    # given alice owns A and a second account, and uses an API key of A
    second = AccountFactory(name="Alice Labs", owner=tenants.alice)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {_alice_key_for_a(tenants)}")

    # when the key lists accounts and asks for the second one
    listing = api_client.get("/api/v1/accounts/")
    other = api_client.get(f"/api/v1/accounts/{second.id}/")

    # then only A exists for the key
    assert [(r["account"]["name"], r["is_active"]) for r in listing.json()["results"]] == [("Account A", True)]
    assert other.status_code == 404


def test_switching_with_an_api_key_is_refused(api_client, tenants):
    # given alice using an API key of account A
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {_alice_key_for_a(tenants)}")

    # when the key tries to switch the session's account
    response = api_client.post(f"/api/v1/accounts/{tenants.a.id}/switch/")

    # then it is refused: a key always acts for its own account
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "An API key always acts for its own account; switching applies to browser sessions.",
        }
    }
    assert SESSION_KEY not in api_client.session
