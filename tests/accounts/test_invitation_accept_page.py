"""/invitations/<token>/: the page the invitation mail links to."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account, Invitation, Membership, Role
from accounts.models.access import token_digest
from accounts.tenancy.context import account_context
from accounts.tenancy.middleware import SESSION_KEY
from tests.accounts.factories import AccountFactory, InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _invite(account: Account, email: str, **fields) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(32)
    return InvitationFactory(account=account, email=email, token_hash=token_digest(token), **fields), token


def _roles(account: Account) -> dict[str, str]:
    with account_context(account.id):
        return dict(Membership.objects.filter(account=account).values_list("user__email", "role"))


def _status(invitation: Invitation) -> str:
    with account_context(invitation.account_id):
        invitation.refresh_from_db()
    return invitation.status


def test_anonymous_visitor_sees_the_invitation_with_sign_up_and_sign_in_links(client, tenants):
    # given alice invited dave to A as member
    _, token = _invite(tenants.a, "dave@example.com", invited_by=tenants.alice)

    # when dave opens the link without being signed in
    response = client.get(f"/invitations/{token}/")

    # then the page names the account and the address, and offers both ways in, coming back here
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Join Account A</h1>" in html
    assert f"{tenants.alice.display_name} invited <strong>dave@example.com</strong> as member." in html
    assert f'href="/auth/signup/?next=/invitations/{token}/"' in html
    assert f'href="/auth/login/?next=/invitations/{token}/"' in html
    assert "<form" not in html.split("<main", 1)[1]


def test_the_invitee_accepts_joins_and_lands_in_the_account(client, tenants):
    # given dave, with his own account, invited to A as admin and signed in
    dave = UserFactory(email="dave@example.com")
    AccountFactory(name="Dave Co", owner=dave)
    invitation, token = _invite(tenants.a, "dave@example.com", role=Role.ADMIN)
    client.force_login(dave)
    assert '<button type="submit">Accept invitation</button>' in client.get(f"/invitations/{token}/").content.decode()

    # when he accepts on the page
    response = client.post(f"/invitations/{token}/")

    # then he is an admin of A, A is his active account and the dashboard welcomes him there
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert _roles(tenants.a)["dave@example.com"] == "admin"
    assert _status(invitation) == "accepted"
    assert client.session[SESSION_KEY] == str(tenants.a.id)
    dashboard = client.get("/dashboard/").content.decode()
    assert '<h2 data-testid="active-account">Account A</h2>' in dashboard
    assert "Welcome to Account A." in dashboard


def test_a_new_person_signs_up_from_the_page_and_accepts(client, tenants):
    # given an invitation of someone with no user yet, who opened the link
    invitation, token = _invite(tenants.a, "newbie@example.com", role=Role.MEMBER)
    client.get(f"/invitations/{token}/")

    # when they sign up with the invited address, come back and accept
    signup = client.post(
        "/auth/signup/",
        {"email": "newbie@example.com", "password1": "a-Long-passw0rd!", "password2": "a-Long-passw0rd!"},
    )
    page = client.get(signup["Location"])
    accepted = client.post(f"/invitations/{token}/")

    # then sign-up led straight back to the invitation, and accepting made them a member acting in A
    assert signup["Location"] == f"/invitations/{token}/"
    assert '<button type="submit">Accept invitation</button>' in page.content.decode()
    assert accepted["Location"] == "/dashboard/"
    assert _roles(tenants.a)["newbie@example.com"] == "member"
    assert _status(invitation) == "accepted"
    assert client.session[SESSION_KEY] == str(tenants.a.id)


def test_someone_else_signed_in_is_told_to_switch_user_and_cannot_accept(client, tenants):
    # given dave's invitation and carol signed in
    invitation, token = _invite(tenants.a, "dave@example.com")
    client.force_login(tenants.carol)

    # when carol opens it, then posts it anyway
    page = client.get(f"/invitations/{token}/").content.decode()
    response = client.post(f"/invitations/{token}/")

    # then she is told to sign in as dave, refused, and nothing changed
    assert "You are signed in as carol@example.com. Sign out and sign in as dave@example.com to accept." in page
    assert response.status_code == 403
    assert (
        "This invitation was sent to dave@example.com. Sign in with that address to accept it."
        in response.content.decode()
    )
    assert "carol@example.com" not in _roles(tenants.a)
    assert _status(invitation) == "pending"
    assert SESSION_KEY not in client.session


def test_an_expired_invitation_page_says_so_and_cannot_be_accepted(client, tenants):
    # given dave's invitation that expired
    dave = UserFactory(email="dave@example.com")
    invitation, token = _invite(tenants.a, "dave@example.com", expires_at=timezone.now() - timedelta(hours=1))
    client.force_login(dave)

    # when dave opens it and posts it
    page = client.get(f"/invitations/{token}/").content.decode()
    response = client.post(f"/invitations/{token}/")

    # then it is marked expired and refused with 409; he did not join
    assert "This invitation is expired." in page
    assert response.status_code == 409
    assert "This invitation has expired. Ask for a new invitation." in response.content.decode()
    assert "dave@example.com" not in _roles(tenants.a)
    assert _status(invitation) == "pending"


def test_posting_anonymously_sends_to_sign_in(client, tenants):
    # given dave's invitation
    invitation, token = _invite(tenants.a, "dave@example.com")

    # when an anonymous visitor posts the accept form
    response = client.post(f"/invitations/{token}/")

    # then they are asked to sign in first and nothing changed
    assert response.status_code == 302
    assert response["Location"] == f"/auth/login/?next=/invitations/{token}/"
    assert _status(invitation) == "pending"
