"""POST /api/v1/invitations/accept/ {"token"}: joining an account by the token
from the invitation mail, and every way a token can be unusable."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Account, Invitation, Membership, Role, User
from accounts.models.access import token_digest
from accounts.tenancy.context import account_context, rls_bypass
from tests.accounts.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/invitations/accept/"


def _invite(account: Account, email: str, **fields) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(32)
    return InvitationFactory(account=account, email=email, token_hash=token_digest(token), **fields), token


def _roles(account: Account) -> dict[str, str]:
    with account_context(account.id):
        return dict(Membership.objects.filter(account=account).values_list("user__email", "role"))


def _status(invitation: Invitation) -> tuple[str, str | None]:
    with account_context(invitation.account_id):
        invitation.refresh_from_db()
    return invitation.status, invitation.accepted_by_id


def test_an_existing_user_accepts_and_joins_with_the_invited_role(api_client, tenants):
    # given dave, already a user, invited to A as admin
    dave = UserFactory(email="dave@example.com")
    invitation, token = _invite(tenants.a, "dave@example.com", role=Role.ADMIN, invited_by=tenants.alice)
    api_client.force_login(dave)

    # when he accepts with the token
    response = api_client.post(URL, {"token": token}, format="json")

    # then he is an admin of A and the invitation is used up
    assert response.status_code == 201
    body = response.json()
    assert (body["account"]["id"], body["account"]["name"], body["role"]) == (str(tenants.a.id), "Account A", "admin")
    assert _roles(tenants.a) == {"alice@example.com": "owner", "bob@example.com": "member", "dave@example.com": "admin"}
    assert _status(invitation) == ("accepted", dave.pk)
    assert invitation.accepted_at is not None
    # and A is now one of his accounts
    accounts = api_client.get("/api/v1/accounts/").json()["results"]
    assert [(r["account"]["name"], r["role"]) for r in accounts] == [("Account A", "admin")]


def test_a_new_user_signs_up_from_the_link_and_accepts(api_client, tenants):
    # given an invitation of a person who has no user yet
    invitation, token = _invite(tenants.a, "newbie@example.com", role=Role.VIEWER)

    # when they open the link, sign up with the invited address and accept
    assert api_client.get(f"/invitations/{token}/").status_code == 200
    signup = api_client.post(
        "/auth/signup/",
        {"email": "newbie@example.com", "password1": "a-Long-passw0rd!", "password2": "a-Long-passw0rd!"},
    )
    response = api_client.post(URL, {"token": token}, format="json")

    # then the mail link counted as verification: they were signed in and sent back to the invitation
    assert (signup.status_code, signup["Location"]) == (302, f"/invitations/{token}/")
    assert mail.outbox == []
    # and they joined A as viewer, next to their own personal account
    assert response.status_code == 201
    newbie = User.objects.get(email="newbie@example.com")
    assert _roles(tenants.a)["newbie@example.com"] == "viewer"
    assert _status(invitation) == ("accepted", newbie.pk)
    with rls_bypass("test assertion"):
        mine = set(Membership.objects.filter(user=newbie).values_list("account__name", "role"))
    assert mine == {("Account A", "viewer"), ("newbie's workspace", "owner")}


def test_the_wrong_user_cannot_accept(api_client, tenants):
    # given an invitation of dave, and carol signed in
    invitation, token = _invite(tenants.a, "dave@example.com")
    api_client.force_login(tenants.carol)

    # when carol uses dave's token
    response = api_client.post(URL, {"token": token}, format="json")

    # then it is forbidden; she did not join and the invitation is still usable
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "invitation_wrong_user",
            "message": "This invitation was sent to dave@example.com. Sign in with that address to accept it.",
        }
    }
    assert _roles(tenants.a) == {"alice@example.com": "owner", "bob@example.com": "member"}
    assert _status(invitation) == ("pending", None)


@pytest.mark.parametrize(
    "fields",
    [
        {"expires_at": timezone.now() - timedelta(seconds=1)},
        {"status": Invitation.Status.EXPIRED},
    ],
    ids=["past-expiry", "swept-as-expired"],
)
def test_an_expired_invitation_is_409(api_client, tenants, fields):
    # given dave's invitation that expired
    dave = UserFactory(email="dave@example.com")
    invitation, token = _invite(tenants.a, "dave@example.com", **fields)
    api_client.force_login(dave)
    before = _status(invitation)

    # when he accepts it
    response = api_client.post(URL, {"token": token}, format="json")

    # then it is a conflict and he did not join
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "invitation_expired", "message": "This invitation has expired. Ask for a new invitation."}
    }
    assert "dave@example.com" not in _roles(tenants.a)
    assert _status(invitation) == before


def test_a_used_invitation_cannot_be_reused(api_client, tenants):
    # given dave accepted his invitation and then left A
    dave = UserFactory(email="dave@example.com")
    invitation, token = _invite(tenants.a, "dave@example.com")
    api_client.force_login(dave)
    assert api_client.post(URL, {"token": token}, format="json").status_code == 201
    with account_context(tenants.a.id):
        membership_id = Membership.objects.get(account=tenants.a, user=dave).pk
    assert api_client.delete(f"/api/v1/members/{membership_id}/").status_code == 204

    # when he uses the same token again
    response = api_client.post(URL, {"token": token}, format="json")

    # then it is a conflict and he is not back in
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "invitation_used", "message": "This invitation has already been used."}
    }
    assert "dave@example.com" not in _roles(tenants.a)
    assert _status(invitation) == ("accepted", dave.pk)


def test_a_revoked_invitation_is_409(api_client, tenants):
    # given dave's invitation, revoked by alice
    dave = UserFactory(email="dave@example.com")
    invitation, token = _invite(tenants.a, "dave@example.com")
    api_client.force_login(tenants.alice)
    assert api_client.delete(f"/api/v1/invitations/{invitation.pk}/").status_code == 204
    api_client.force_login(dave)

    # when dave accepts it
    response = api_client.post(URL, {"token": token}, format="json")

    # then it is a conflict and he did not join
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "invitation_revoked", "message": "This invitation was revoked. Ask for a new invitation."}
    }
    assert "dave@example.com" not in _roles(tenants.a)
    assert _status(invitation) == ("revoked", None)


def test_an_unknown_token_is_404(api_client, tenants):
    # given dave signed in, with a real invitation elsewhere
    dave = UserFactory(email="dave@example.com")
    invitation, token = _invite(tenants.a, "dave@example.com")
    api_client.force_login(dave)

    # when he sends a token that matches nothing
    response = api_client.post(URL, {"token": token[:-2] + "xx"}, format="json")

    # then it is not found and nothing changed
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "invitation_invalid",
            "message": "This invitation link is not valid. Ask for a new invitation.",
        }
    }
    assert "dave@example.com" not in _roles(tenants.a)
    assert _status(invitation) == ("pending", None)


def test_accepting_when_the_account_is_full_is_409(api_client, tenants):
    # given dave's invitation, after A's user limit dropped to its two members
    dave = UserFactory(email="dave@example.com")
    invitation, token = _invite(tenants.a, "dave@example.com")
    with account_context(tenants.a.id):
        Account.objects.filter(pk=tenants.a.pk).update(user_limit=2)
    api_client.force_login(dave)

    # when he accepts
    response = api_client.post(URL, {"token": token}, format="json")

    # then the plan limit stops him and the invitation stays pending
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "plan_limit_reached"
    assert response.json()["error"]["limit"] == 2
    assert "dave@example.com" not in _roles(tenants.a)
    assert _status(invitation) == ("pending", None)


def test_accepting_an_invitation_to_an_account_i_am_in_is_409(api_client, tenants):
    # given an invitation addressed to bob, already a member of A
    invitation, token = _invite(tenants.a, "bob@example.com", role=Role.ADMIN)
    api_client.force_login(tenants.bob)

    # when bob accepts it
    response = api_client.post(URL, {"token": token}, format="json")

    # then it is a conflict and his role is unchanged
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_member",
        "message": "You are already a member of this account.",
    }
    assert _roles(tenants.a)["bob@example.com"] == "member"
    assert _status(invitation) == ("pending", None)


def test_accepting_requires_signing_in(api_client, tenants):
    # given a pending invitation
    invitation, token = _invite(tenants.a, "dave@example.com")

    # when nobody signed in posts its token
    response = api_client.post(URL, {"token": token}, format="json")

    # then it is 401 and the invitation is untouched
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert _status(invitation) == ("pending", None)


def test_a_missing_token_is_400_with_the_field(api_client, tenants):
    # given dave signed in
    api_client.force_login(UserFactory(email="dave@example.com"))

    # when he posts no token
    response = api_client.post(URL, {}, format="json")

    # then the error names the field
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"token": ["This field is required."]},
        }
    }
