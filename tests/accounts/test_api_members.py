"""/api/v1/members/: listing, role changes and removals, with the role rules of
accounts/services/members.py. Every refusal leaves the memberships untouched."""

from __future__ import annotations

import pytest

from accounts.models import Account, Membership, Role, User
from accounts.tenancy.context import account_context
from tests.accounts.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _roles(account: Account) -> dict[str, str]:
    with account_context(account.id):
        return dict(Membership.objects.filter(account=account).values_list("user__email", "role"))


def _join(account: Account, email: str, role: Role) -> tuple[User, Membership]:
    user = UserFactory(email=email)
    return user, MembershipFactory(account=account, user=user, role=role)


def _url(membership: Membership) -> str:
    return f"/api/v1/members/{membership.pk}/"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER])
def test_every_role_lists_the_members_of_its_account_only(api_client, tenants, role):
    # given someone with `role` in A
    reader, _ = _join(tenants.a, "reader@example.com", role)
    api_client.force_login(reader)

    # when they list members
    response = api_client.get("/api/v1/members/")

    # then they see A's members, oldest first, and nobody of B
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [(m["user"]["email"], m["role"]) for m in response.json()["results"]] == [
        ("alice@example.com", "owner"),
        ("bob@example.com", "member"),
        ("reader@example.com", role.value),
    ]


def test_owner_promotes_a_member_to_admin(api_client, tenants):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she makes bob an admin
    response = api_client.patch(_url(tenants.bob_membership), {"role": "admin"}, format="json")

    # then bob is admin
    assert response.status_code == 200
    assert (response.json()["user"]["email"], response.json()["role"]) == ("bob@example.com", "admin")
    assert _roles(tenants.a) == {"alice@example.com": "owner", "bob@example.com": "admin"}


@pytest.mark.parametrize("actor_role", [Role.MEMBER, Role.VIEWER])
def test_member_or_viewer_cannot_change_roles(api_client, tenants, actor_role):
    # given a member or viewer of A
    actor, _ = _join(tenants.a, "actor@example.com", actor_role)
    api_client.force_login(actor)
    before = _roles(tenants.a)

    # when they try to promote bob
    response = api_client.patch(_url(tenants.bob_membership), {"role": "admin"}, format="json")

    # then it is forbidden and nothing changed
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "permission_denied", "message": "Only admins and owners can manage members."}
    }
    assert _roles(tenants.a) == before


@pytest.mark.parametrize("actor_role", [Role.MEMBER, Role.VIEWER])
def test_member_or_viewer_cannot_remove_someone_else(api_client, tenants, actor_role):
    # given a member or viewer of A
    actor, _ = _join(tenants.a, "actor@example.com", actor_role)
    api_client.force_login(actor)
    before = _roles(tenants.a)

    # when they try to remove bob
    response = api_client.delete(_url(tenants.bob_membership))

    # then it is forbidden and bob is still there
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert _roles(tenants.a) == before


def test_viewer_cannot_promote_themselves(api_client, tenants):
    # given a viewer of A
    viewer, membership = _join(tenants.a, "viewer@example.com", Role.VIEWER)
    api_client.force_login(viewer)

    # when they try to make themselves owner
    response = api_client.patch(_url(membership), {"role": "owner"}, format="json")

    # then it is forbidden and they are still a viewer
    assert response.status_code == 403
    assert _roles(tenants.a)["viewer@example.com"] == "viewer"


def test_admin_cannot_change_the_owners_role(api_client, tenants):
    # given dave, admin of A
    dave, _ = _join(tenants.a, "dave@example.com", Role.ADMIN)
    api_client.force_login(dave)
    before = _roles(tenants.a)

    # when he tries to demote alice, the owner
    response = api_client.patch(_url(tenants.alice_membership), {"role": "viewer"}, format="json")

    # then it is forbidden and nothing changed
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "permission_denied", "message": "You cannot change a member whose role is above yours."}
    }
    assert _roles(tenants.a) == before


def test_admin_cannot_remove_the_owner(api_client, tenants):
    # given dave, admin of A
    dave, _ = _join(tenants.a, "dave@example.com", Role.ADMIN)
    api_client.force_login(dave)
    before = _roles(tenants.a)

    # when he tries to remove alice
    response = api_client.delete(_url(tenants.alice_membership))

    # then it is forbidden and alice is still owner
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You cannot change a member whose role is above yours."
    assert _roles(tenants.a) == before


def test_admin_cannot_grant_a_role_above_their_own(api_client, tenants):
    # given dave, admin of A
    dave, _ = _join(tenants.a, "dave@example.com", Role.ADMIN)
    api_client.force_login(dave)
    before = _roles(tenants.a)

    # when he tries to make bob an owner
    response = api_client.patch(_url(tenants.bob_membership), {"role": "owner"}, format="json")

    # then it is forbidden and bob is still a member
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "permission_denied", "message": "You cannot grant a role above your own."}
    }
    assert _roles(tenants.a) == before


def test_admin_manages_members_below_or_at_their_rank(api_client, tenants):
    # given dave, admin of A, and erin, another admin
    dave, _ = _join(tenants.a, "dave@example.com", Role.ADMIN)
    _, erin = _join(tenants.a, "erin@example.com", Role.ADMIN)
    api_client.force_login(dave)

    # when he makes bob a viewer and removes erin
    demoted = api_client.patch(_url(tenants.bob_membership), {"role": "viewer"}, format="json")
    removed = api_client.delete(_url(erin))

    # then both changes are made
    assert (demoted.status_code, removed.status_code) == (200, 204)
    assert removed.content == b""
    assert _roles(tenants.a) == {"alice@example.com": "owner", "bob@example.com": "viewer", "dave@example.com": "admin"}


def test_the_last_owner_cannot_be_demoted(api_client, tenants):
    # given alice, the only owner of A
    api_client.force_login(tenants.alice)
    before = _roles(tenants.a)

    # when she demotes herself
    response = api_client.patch(_url(tenants.alice_membership), {"role": "admin"}, format="json")

    # then it is a conflict and she is still owner
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "last_owner",
            "message": "An account needs at least one owner. Make someone else an owner first.",
        }
    }
    assert _roles(tenants.a) == before


def test_the_last_owner_cannot_leave(api_client, tenants):
    # given alice, the only owner of A
    api_client.force_login(tenants.alice)
    before = _roles(tenants.a)

    # when she leaves
    response = api_client.delete(_url(tenants.alice_membership))

    # then it is a conflict and she is still owner
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "last_owner",
            "message": "The last owner cannot leave or be removed. Make someone else an owner first.",
        }
    }
    assert _roles(tenants.a) == before


def test_with_a_second_owner_an_owner_may_step_down_and_leave(api_client, tenants):
    # given alice promoted bob to owner
    api_client.force_login(tenants.alice)
    api_client.patch(_url(tenants.bob_membership), {"role": "owner"}, format="json")

    # when she demotes herself and then leaves
    demoted = api_client.patch(_url(tenants.alice_membership), {"role": "member"}, format="json")
    left = api_client.delete(_url(tenants.alice_membership))

    # then bob is the owner and alice is gone
    assert (demoted.status_code, left.status_code) == (200, 204)
    assert _roles(tenants.a) == {"bob@example.com": "owner"}


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_a_member_or_viewer_may_leave(api_client, tenants, role):
    # given someone with `role` in A
    leaver, membership = _join(tenants.a, "leaver@example.com", role)
    api_client.force_login(leaver)

    # when they remove their own membership
    response = api_client.delete(_url(membership))

    # then they are gone, and nobody else is
    assert response.status_code == 204
    assert _roles(tenants.a) == {"alice@example.com": "owner", "bob@example.com": "member"}


def test_a_foreign_membership_is_404_and_untouched(api_client, tenants):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she reads, changes and removes carol's membership of B by id
    read = api_client.get(_url(tenants.carol_membership))
    changed = api_client.patch(_url(tenants.carol_membership), {"role": "viewer"}, format="json")
    removed = api_client.delete(_url(tenants.carol_membership))

    # then none of it exists for her and carol is still B's owner
    assert (read.status_code, changed.status_code, removed.status_code) == (404, 404, 404)
    assert changed.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert _roles(tenants.b) == {"carol@example.com": "owner"}


def test_an_unknown_role_is_400_with_the_field(api_client, tenants):
    # given alice, owner of A
    api_client.force_login(tenants.alice)

    # when she sends a role that does not exist
    response = api_client.patch(_url(tenants.bob_membership), {"role": "emperor"}, format="json")

    # then the error names the field and bob is unchanged
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"role": ['"emperor" is not a valid choice.']},
        }
    }
    assert _roles(tenants.a)["bob@example.com"] == "member"


def test_members_cannot_be_created_through_the_api(api_client, tenants):
    # given alice, owner of A
    api_client.force_login(tenants.alice)
    before = _roles(tenants.a)

    # when she posts a membership directly (the way in is an invitation)
    response = api_client.post("/api/v1/members/", {"user": str(tenants.carol.pk), "role": "owner"}, format="json")

    # then the method is not allowed and nobody joined
    assert response.status_code == 405
    assert response.json() == {"error": {"code": "method_not_allowed", "message": 'Method "POST" not allowed.'}}
    assert _roles(tenants.a) == before
