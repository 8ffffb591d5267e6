"""/api/v1/invitations/: inviting by email (mail sent by the Celery task after
commit), the conflicts and the plan's user limit, listing and revoking."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Account, Invitation, Role
from accounts.models.access import token_digest
from accounts.tenancy.context import account_context
from tests.accounts.factories import InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/invitations/"
ACCEPT_LINK = re.compile(r"^Accept the invitation: http://127\.0\.0\.1:8000/invitations/([A-Za-z0-9_-]+)/$", re.M)


def _invitations(account: Account) -> list[tuple[str, str, str]]:
    with account_context(account.id):
        return list(Invitation.objects.filter(account=account).order_by("email").values_list("email", "role", "status"))


def _set_user_limit(account: Account, limit: int) -> None:
    with account_context(account.id):
        Account.objects.filter(pk=account.pk).update(user_limit=limit)


def test_admin_invites_by_email_and_the_mail_carries_a_working_token(
    api_client, tenants, django_capture_on_commit_callbacks
):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she invites dave as admin (address typed in mixed case)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post(URL, {"email": "Dave@Example.com", "role": "admin"}, format="json")

    # then a pending invitation exists for the lower-cased address
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("email", "role", "status", "invited_by", "accepted_at")} == {
        "email": "dave@example.com",
        "role": "admin",
        "status": "pending",
        "invited_by": "alice@example.com",
        "accepted_at": None,
    }
    assert "token" not in body and "token_hash" not in body
    assert _invitations(tenants.a) == [("dave@example.com", "admin", "pending")]
    # and, once committed, one mail went out through the task
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dave@example.com"]
    assert message.subject == "[aiplatform] You are invited to Account A"
    assert f'{tenants.alice.display_name} invited you to join "Account A" on aiplatform as admin.' in message.body
    # and its link holds the raw token whose digest alone is stored
    token = ACCEPT_LINK.search(message.body).group(1)
    with account_context(tenants.a.id):
        invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.token_hash == token_digest(token)
    assert token not in invitation.token_hash
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)


def test_no_mail_is_sent_before_the_transaction_commits(api_client, tenants, django_capture_on_commit_callbacks):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she invites dave, and the surrounding transaction has not committed yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(URL, {"email": "dave@example.com"}, format="json")

    # then the mail waits for the commit
    assert response.status_code == 201
    assert len(callbacks) == 1
    assert mail.outbox == []


@pytest.mark.parametrize("actor_role", [Role.MEMBER, Role.VIEWER])
def test_member_or_viewer_cannot_invite(api_client, tenants, actor_role, django_capture_on_commit_callbacks):
    # given a member or viewer of A
    actor = UserFactory(email="actor@example.com")
    MembershipFactory(account=tenants.a, user=actor, role=actor_role)
    api_client.force_login(actor)

    # when they invite someone
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, {"email": "dave@example.com"}, format="json")

    # then it is forbidden; no invitation, no mail
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "permission_denied", "message": "Your role in this account does not allow this."}
    }
    assert _invitations(tenants.a) == []
    assert mail.outbox == []


def test_admin_cannot_invite_an_owner(api_client, tenants, django_capture_on_commit_callbacks):
    # given dave, admin of A
    dave = UserFactory(email="dave@example.com")
    MembershipFactory(account=tenants.a, user=dave, role=Role.ADMIN)
    api_client.force_login(dave)

    # when he invites someone as owner
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, {"email": "erin@example.com", "role": "owner"}, format="json")

    # then it is forbidden; no invitation, no mail
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "You cannot invite someone with a role above your own.",
    }
    assert _invitations(tenants.a) == []
    assert mail.outbox == []


def test_a_second_pending_invitation_for_the_same_email_is_409(api_client, tenants, django_capture_on_commit_callbacks):
    # given a pending invitation of dave to A
    api_client.force_login(tenants.alice)
    api_client.post(URL, {"email": "dave@example.com"}, format="json")

    # when alice invites DAVE@example.com again
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, {"email": "DAVE@example.com", "role": "admin"}, format="json")

    # then it is a conflict and the first invitation is unchanged
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "already_invited", "message": "dave@example.com already has a pending invitation."}
    }
    assert _invitations(tenants.a) == [("dave@example.com", "member", "pending")]
    assert mail.outbox == []


def test_inviting_a_current_member_is_409(api_client, tenants, django_capture_on_commit_callbacks):
    # given bob is a member of A
    api_client.force_login(tenants.alice)

    # when alice invites bob's address
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, {"email": "Bob@Example.com"}, format="json")

    # then it is a conflict; no invitation, no mail
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "already_member", "message": "bob@example.com is already a member of this account."}
    }
    assert _invitations(tenants.a) == []
    assert mail.outbox == []


def test_inviting_beyond_the_plans_user_limit_is_409_plan_limit_reached(
    api_client, tenants, django_capture_on_commit_callbacks
):
    # given A allows 3 users: alice and bob are members and one invitation is pending
    _set_user_limit(tenants.a, 3)
    InvitationFactory(account=tenants.a, email="pending@example.com", invited_by=tenants.alice)
    api_client.force_login(tenants.alice)

    # when alice invites a fourth person
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, {"email": "dave@example.com"}, format="json")

    # then the plan limit stops it, saying what the limit is
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "plan_limit_reached",
            "message": "This account's plan allows 3 users, counting pending invitations. "
            "Remove a member, revoke an invitation or upgrade the plan.",
            "limit": 3,
        }
    }
    assert _invitations(tenants.a) == [("pending@example.com", "member", "pending")]
    assert mail.outbox == []


def test_an_expired_pending_invitation_frees_its_seat_and_can_be_renewed(
    api_client, tenants, django_capture_on_commit_callbacks
):
    # given A allows 3 users and dave's invitation expired without being swept
    _set_user_limit(tenants.a, 3)
    InvitationFactory(account=tenants.a, email="dave@example.com", expires_at=timezone.now() - timedelta(minutes=1))
    api_client.force_login(tenants.alice)

    # when alice invites dave again
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, {"email": "dave@example.com"}, format="json")

    # then the old one is marked expired and a new pending one is mailed
    assert response.status_code == 201
    with account_context(tenants.a.id):
        statuses = sorted(Invitation.objects.filter(email="dave@example.com").values_list("status", flat=True))
    assert statuses == ["expired", "pending"]
    assert [m.to for m in mail.outbox] == [["dave@example.com"]]


def test_invalid_email_is_400_with_the_field(api_client, tenants):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she invites something that is not an address
    response = api_client.post(URL, {"email": "not-an-email", "role": "member"}, format="json")

    # then the error names the field and nothing was created
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"email": ["Enter a valid email address."]},
        }
    }
    assert _invitations(tenants.a) == []


def test_admin_lists_only_the_invitations_of_the_active_account(api_client, tenants):
    # given invitations in A and in B
    InvitationFactory(account=tenants.a, email="one@example.com", invited_by=tenants.alice)
    InvitationFactory(account=tenants.a, email="two@example.com", role=Role.VIEWER, status="revoked")
    InvitationFactory(account=tenants.b, email="foreign@example.com", invited_by=tenants.carol)
    api_client.force_login(tenants.alice)

    # when alice lists all, then only pending ones
    everything = api_client.get(URL)
    pending = api_client.get(URL, {"status": "pending"})

    # then she sees only A's, newest first, filtered by status
    assert [(i["email"], i["status"]) for i in everything.json()["results"]] == [
        ("two@example.com", "revoked"),
        ("one@example.com", "pending"),
    ]
    assert [i["email"] for i in pending.json()["results"]] == ["one@example.com"]


def test_a_member_cannot_list_invitations(api_client, tenants):
    # given an invitation in A and bob, a member
    InvitationFactory(account=tenants.a, email="one@example.com")
    api_client.force_login(tenants.bob)

    # when bob lists invitations
    response = api_client.get(URL)

    # then it is forbidden
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_admin_revokes_a_pending_invitation(api_client, tenants):
    # given a pending invitation in A
    invitation = InvitationFactory(account=tenants.a, email="dave@example.com")
    api_client.force_login(tenants.alice)

    # when alice revokes it
    response = api_client.delete(f"{URL}{invitation.pk}/")

    # then it is revoked
    assert response.status_code == 204
    assert _invitations(tenants.a) == [("dave@example.com", "member", "revoked")]


def test_revoking_twice_is_409(api_client, tenants):
    # given a revoked invitation in A
    invitation = InvitationFactory(account=tenants.a, email="dave@example.com", status="revoked")
    api_client.force_login(tenants.alice)

    # when alice revokes it again
    response = api_client.delete(f"{URL}{invitation.pk}/")

    # then it is a conflict
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "not_pending", "message": "This invitation is already revoked."}}
    assert _invitations(tenants.a) == [("dave@example.com", "member", "revoked")]


def test_a_member_cannot_revoke(api_client, tenants):
    # given a pending invitation in A and bob, a member
    invitation = InvitationFactory(account=tenants.a, email="dave@example.com")
    api_client.force_login(tenants.bob)

    # when bob revokes it
    response = api_client.delete(f"{URL}{invitation.pk}/")

    # then it is forbidden and still pending
    assert response.status_code == 403
    assert _invitations(tenants.a) == [("dave@example.com", "member", "pending")]


def test_revoking_a_foreign_invitation_is_404(api_client, tenants):
    # given a pending invitation in B
    invitation = InvitationFactory(account=tenants.b, email="dave@example.com")
    api_client.force_login(tenants.alice)

    # when alice, owner of A, revokes it by id
    response = api_client.delete(f"{URL}{invitation.pk}/")

    # then it does not exist for her and stays pending
    assert response.status_code == 404
    assert _invitations(tenants.b) == [("dave@example.com", "member", "pending")]
