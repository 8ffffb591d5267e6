"""Server-rendered pages: dashboard and settings for every role, the invite form
and the API key page (secret shown once)."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core import mail

from accounts.models import Account, ApiKey, Invitation, Role, User
from accounts.tenancy.context import account_context
from tests.accounts.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER]
SECRET = re.compile(r'<code id="new-key-secret">(aip_[^<]+)</code>')


def _user_with_role(tenants, role: Role) -> User:
    if role == Role.OWNER:
        return tenants.alice
    user = UserFactory(email=f"{role.value}@example.com")
    MembershipFactory(account=tenants.a, user=user, role=role)
    return user


def _invitations(account: Account) -> list[tuple[str, str, str]]:
    with account_context(account.id):
        return list(Invitation.objects.filter(account=account).values_list("email", "role", "status"))


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_renders_the_active_account_for_every_role(client, tenants, role):
    # given someone with `role` in A
    client.force_login(_user_with_role(tenants, role))

    # when they open the dashboard
    response = client.get("/dashboard/")

    # then it shows A and their role; only admins see the admin figures
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 data-testid="active-account">Account A</h2>' in html
    assert f"you are <strong>{role.value}</strong>" in html
    assert ("pending invitations" in html) is role.at_least(Role.ADMIN)
    assert ("active API keys" in html) is role.at_least(Role.ADMIN)
    assert "Account B" not in html


def test_dashboard_without_any_account_offers_to_create_one(client, db):
    # given a user who belongs to no account
    client.force_login(UserFactory(email="loner@example.com"))

    # when they open the dashboard
    response = client.get("/dashboard/")

    # then it says so and links to account creation
    assert response.status_code == 200
    assert "You are not a member of any account." in response.content.decode()
    assert 'href="/accounts/new/"' in response.content.decode()


def test_dashboard_asks_anonymous_visitors_to_sign_in(client, db):
    # given nobody signed in

    # when the dashboard is opened
    response = client.get("/dashboard/")

    # then they are sent to sign in
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/?next=/dashboard/"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/settings/profile/", "/settings/account/", "/settings/members/"])
def test_settings_pages_render_for_every_role(client, tenants, role, url):
    # given someone with `role` in A
    client.force_login(_user_with_role(tenants, role))

    # when they open the settings page
    response = client.get(url)

    # then it renders
    assert response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_members_page_lists_members_and_offers_invites_to_admins_only(client, tenants, role):
    # given someone with `role` in A
    client.force_login(_user_with_role(tenants, role))

    # when they open the members page
    html = client.get("/settings/members/").content.decode()

    # then they see A's members, and the invite form only if they may invite
    assert "alice@example.com" in html and "bob@example.com" in html
    assert "carol@example.com" not in html
    assert ('data-testid="invite-form"' in html) is role.at_least(Role.ADMIN)


@pytest.mark.parametrize("role,status", [(Role.OWNER, 200), (Role.ADMIN, 200), (Role.MEMBER, 403), (Role.VIEWER, 403)])
def test_api_key_page_is_for_admins_and_owners(client, tenants, role, status):
    # given someone with `role` in A
    client.force_login(_user_with_role(tenants, role))

    # when they open the API key page
    response = client.get("/settings/api-keys/")

    # then only admins and owners get it
    assert response.status_code == status


def test_invite_form_creates_an_invitation_and_mails_it(client, tenants, django_capture_on_commit_callbacks):
    # given alice, owner of A, on the members page
    client.force_login(tenants.alice)

    # when she submits the invite form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/members/", {"email": "dave@example.com", "role": "viewer"})

    # then the invitation exists, the mail went out and the page confirms it
    assert response.status_code == 302
    assert response["Location"] == "/settings/members/"
    assert _invitations(tenants.a) == [("dave@example.com", "viewer", "pending")]
    assert [m.to for m in mail.outbox] == [["dave@example.com"]]
    page = client.get("/settings/members/").content.decode()
    assert "Invitation sent to dave@example.com." in page
    assert "<td>dave@example.com</td><td>Viewer</td>" in page


def test_invite_form_refuses_a_member_and_creates_nothing(client, tenants, django_capture_on_commit_callbacks):
    # given bob, a member of A
    client.force_login(tenants.bob)

    # when he posts the invite form anyway
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/members/", {"email": "dave@example.com", "role": "member"})

    # then the page shows the refusal; no invitation, no mail
    assert response.status_code == 200
    assert "Only admins and owners can invite members." in response.content.decode()
    assert _invitations(tenants.a) == []
    assert mail.outbox == []


def test_invite_form_shows_a_conflict_and_keeps_the_form(client, tenants, django_capture_on_commit_callbacks):
    # given alice, owner of A, where bob is already a member
    client.force_login(tenants.alice)

    # when she invites bob
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/members/", {"email": "bob@example.com", "role": "member"})

    # then the page explains; nothing created
    assert response.status_code == 200
    assert "bob@example.com is already a member of this account." in response.content.decode()
    assert _invitations(tenants.a) == []
    assert mail.outbox == []


def test_api_key_page_shows_the_secret_once(client, tenants):
    # given alice, owner of A
    client.force_login(tenants.alice)

    # when she creates a key on the page
    created = client.post("/settings/api-keys/", {"name": "Zapier", "role": "viewer"})

    # then the answer shows the secret, whose digest alone is stored
    assert created.status_code == 200
    secret = SECRET.search(created.content.decode()).group(1)
    with account_context(tenants.a.id):
        key = ApiKey.objects.get(account=tenants.a)
    assert (key.name, key.role, key.key_hash) == ("Zapier", "viewer", hashlib.sha256(secret.encode()).hexdigest())
    # and the next visit shows its prefix but never the secret again
    later = client.get("/settings/api-keys/").content.decode()
    assert secret not in later
    assert 'data-testid="new-key"' not in later
    assert f"<code>{key.prefix}…</code>" in later


def test_api_key_page_refuses_a_member_and_creates_nothing(client, tenants):
    # given bob, a member of A
    client.force_login(tenants.bob)

    # when he posts the API key form
    response = client.post("/settings/api-keys/", {"name": "mine", "role": "member"})

    # then it is forbidden and no key exists
    assert response.status_code == 403
    with account_context(tenants.a.id):
        assert ApiKey.objects.count() == 0


def test_an_unknown_page_is_the_html_404(client, db):
    # given nobody signed in

    # when a page that does not exist is opened
    response = client.get("/no-such-page/")

    # then it is the site's 404 page, not JSON
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
