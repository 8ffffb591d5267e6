"""`Authorization: Bearer <key>`: a key acts for its creator in its own account,
never with more than the key's role or the creator's current role."""

from __future__ import annotations

import pytest

from accounts.models import Account, ApiKey, Invitation, Membership, Role, User
from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context, rls_bypass
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

INVALID = {"error": {"code": "not_authenticated", "message": "Invalid or revoked API key."}}


def _key(account: Account, creator: User, role: Role, name: str = "key") -> tuple[ApiKey, str]:
    """A key made the way the app makes it; the creator must be an admin or owner of `account`."""
    with account_context(account.id):
        actor = Membership.objects.get(account=account, user=creator)
        return api_key_create(account=account, actor=actor, name=name, role=role)


def _bearer(api_client, raw: str) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _roles(account: Account) -> dict[str, str]:
    with account_context(account.id):
        return dict(Membership.objects.filter(account=account).values_list("user__email", "role"))


def _key_names(account: Account) -> list[str]:
    with account_context(account.id):
        return sorted(ApiKey.objects.filter(account=account).values_list("name", flat=True))


def test_a_key_authenticates_as_its_creator_and_records_its_use(api_client, tenants):
    # given a key alice made for A, never used
    key, raw = _key(tenants.a, tenants.alice, Role.MEMBER)
    _bearer(api_client, raw)

    # when a program calls the API with it
    response = api_client.get("/api/v1/me/")

    # then it acts as alice and the key's last use is recorded
    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"
    with account_context(tenants.a.id):
        key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_key_acts_in_its_own_account_whatever_the_creators_other_accounts(api_client, tenants):
    # given alice also owns a personal account, listed before A for her browser session
    AccountFactory(name="Alice Personal", owner=tenants.alice, is_personal=True)
    _, raw = _key(tenants.a, tenants.alice, Role.VIEWER)
    _bearer(api_client, raw)

    # when the key lists members
    response = api_client.get("/api/v1/members/")

    # then they are A's
    assert response.status_code == 200
    assert [m["user"]["email"] for m in response.json()["results"]] == ["alice@example.com", "bob@example.com"]


def test_a_revoked_key_is_401(api_client, tenants):
    # given a key of A that alice revoked
    key, raw = _key(tenants.a, tenants.alice, Role.ADMIN)
    api_client.force_login(tenants.alice)
    assert api_client.delete(f"/api/v1/api-keys/{key.pk}/").status_code == 204
    api_client.logout()
    _bearer(api_client, raw)

    # when a program reads and writes with it
    read = api_client.get("/api/v1/members/")
    write = api_client.patch(f"/api/v1/members/{tenants.bob_membership.pk}/", {"role": "viewer"}, format="json")

    # then both are 401 and nothing changed
    assert (read.status_code, write.status_code) == (401, 401)
    assert read.json() == INVALID
    assert read["WWW-Authenticate"] == "Bearer"
    assert _roles(tenants.a)["bob@example.com"] == "member"


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-key", "Bearer aip_", "Bearer aip_abcdefgh_forged-secret-value", "Bearer ", "bearer aip_x y"],
)
def test_a_malformed_or_unknown_key_is_401(api_client, tenants, header):
    # given a request with a bad Bearer header
    api_client.credentials(HTTP_AUTHORIZATION=header)

    # when it reads members
    response = api_client.get("/api/v1/members/")

    # then it is 401 in the error shape
    assert response.status_code == 401
    assert response.json() == INVALID


def test_a_bad_key_is_not_rescued_by_a_valid_session(api_client, tenants):
    # given alice signed in, sending a bad key as well
    api_client.force_login(tenants.alice)
    _bearer(api_client, "aip_nothing_here")

    # when she changes bob's role
    response = api_client.patch(f"/api/v1/members/{tenants.bob_membership.pk}/", {"role": "admin"}, format="json")

    # then the bad key decides: 401, nothing changed
    assert response.status_code == 401
    assert _roles(tenants.a)["bob@example.com"] == "member"


def test_a_viewer_key_reads_but_cannot_write(api_client, tenants, django_capture_on_commit_callbacks):
    # given a viewer-role key made by alice, owner of A
    _, raw = _key(tenants.a, tenants.alice, Role.VIEWER)
    _bearer(api_client, raw)

    # when the key reads members, then changes a role, removes bob and invites someone
    read = api_client.get("/api/v1/members/")
    with django_capture_on_commit_callbacks(execute=True):
        promote = api_client.patch(f"/api/v1/members/{tenants.bob_membership.pk}/", {"role": "admin"}, format="json")
        remove = api_client.delete(f"/api/v1/members/{tenants.bob_membership.pk}/")
        invite = api_client.post("/api/v1/invitations/", {"email": "dave@example.com"}, format="json")

    # then the read works and every write is forbidden, changing nothing
    assert read.status_code == 200
    assert (promote.status_code, remove.status_code, invite.status_code) == (403, 403, 403)
    assert promote.json()["error"]["code"] == "permission_denied"
    assert _roles(tenants.a) == {"alice@example.com": "owner", "bob@example.com": "member"}
    with account_context(tenants.a.id):
        assert Invitation.objects.count() == 0


def test_an_admin_key_of_an_owner_cannot_act_as_owner(api_client, tenants):
    # given an admin-role key made by alice, the owner of A
    _, raw = _key(tenants.a, tenants.alice, Role.ADMIN, name="admin-key")
    _bearer(api_client, raw)

    # when the key mints an owner key, invites an owner and promotes bob to owner
    mint = api_client.post("/api/v1/api-keys/", {"name": "root", "role": "owner"}, format="json")
    invite = api_client.post("/api/v1/invitations/", {"email": "dave@example.com", "role": "owner"}, format="json")
    promote = api_client.patch(f"/api/v1/members/{tenants.bob_membership.pk}/", {"role": "owner"}, format="json")

    # then each is forbidden: the key's role caps what the owner could do
    assert (mint.status_code, invite.status_code, promote.status_code) == (403, 403, 403)
    assert _key_names(tenants.a) == ["admin-key"]
    assert _roles(tenants.a) == {"alice@example.com": "owner", "bob@example.com": "member"}
    with account_context(tenants.a.id):
        assert Invitation.objects.count() == 0


def test_a_key_never_has_more_than_its_creator_has_now(api_client, tenants):
    # given dave made an admin key while admin of A, then was demoted to member
    dave = UserFactory(email="dave@example.com")
    membership = MembershipFactory(account=tenants.a, user=dave, role=Role.ADMIN)
    _, raw = _key(tenants.a, dave, Role.ADMIN, name="dave-key")
    with account_context(tenants.a.id):
        Membership.objects.filter(pk=membership.pk).update(role=Role.MEMBER)
    _bearer(api_client, raw)

    # when the key lists keys and creates one (admin-only)
    listing = api_client.get("/api/v1/api-keys/")
    created = api_client.post("/api/v1/api-keys/", {"name": "more"}, format="json")

    # then both are forbidden and no key was added
    assert (listing.status_code, created.status_code) == (403, 403)
    assert _key_names(tenants.a) == ["dave-key"]


def test_the_key_of_a_removed_member_is_401(api_client, tenants):
    # given dave made a key for A, owns another account, and was then removed from A
    dave = UserFactory(email="dave@example.com")
    membership = MembershipFactory(account=tenants.a, user=dave, role=Role.ADMIN)
    AccountFactory(name="Dave Co", owner=dave)
    _, raw = _key(tenants.a, dave, Role.ADMIN, name="dave-key")
    api_client.force_login(tenants.alice)
    assert api_client.delete(f"/api/v1/members/{membership.pk}/").status_code == 204
    api_client.logout()
    _bearer(api_client, raw)

    # when the key reads and writes
    read = api_client.get("/api/v1/members/")
    write = api_client.post("/api/v1/api-keys/", {"name": "again"}, format="json")

    # then it is 401, neither in A nor in dave's other account, and nothing was created
    assert (read.status_code, write.status_code) == (401, 401)
    assert read.json() == {
        "error": {"code": "not_authenticated", "message": "This API key's owner is no longer a member of its account."}
    }
    assert _key_names(tenants.a) == ["dave-key"]


def test_the_key_of_a_banned_user_is_401(api_client, tenants):
    # given a key of alice, who was then banned by an operator
    _, raw = _key(tenants.a, tenants.alice, Role.ADMIN)
    User.objects.filter(pk=tenants.alice.pk).update(is_active=False)
    _bearer(api_client, raw)

    # when the key is used
    response = api_client.get("/api/v1/members/")

    # then it is 401
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/accounts/"),
        ("patch", "/api/v1/me/"),
        ("post", "/api/v1/invitations/accept/"),
    ],
)
def test_an_api_key_cannot_act_as_the_person_behind_it(tenants, api_client, method, url):
    # given an owner-role key of alice
    with account_context(tenants.a.id):
        _, raw = api_key_create(account=tenants.a, actor=tenants.alice_membership, name="ci", role=Role.OWNER)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    # when it tries a person-level act
    response = getattr(api_client, method)(url, {"name": "New", "token": "x", "full_name": "Hijack"}, format="json")
    # then it is refused and nothing changed
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    tenants.alice.refresh_from_db()
    assert tenants.alice.full_name != "Hijack"
    with rls_bypass("test"):
        assert Account.objects.filter(name="New").count() == 0


def test_an_api_key_cannot_make_its_creator_leave(tenants, api_client):
    with account_context(tenants.a.id):
        _, raw = api_key_create(account=tenants.a, actor=tenants.alice_membership, name="ci", role=Role.OWNER)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api_client.delete(f"/api/v1/members/{tenants.alice_membership.pk}/")
    assert response.status_code == 403
    with account_context(tenants.a.id):
        assert Membership.objects.filter(pk=tenants.alice_membership.pk).exists()


def test_a_key_speaks_its_owners_language(api_client, tenants):
    # given alice reads Korean and made a key; the program sends no Accept-Language
    User.objects.filter(pk=tenants.alice.pk).update(locale="ko")
    key, raw = _key(tenants.a, tenants.alice, Role.OWNER)
    _bearer(api_client, raw)

    # when the program reads another account's membership and a refused validation
    missing = api_client.get(f"/api/v1/members/{tenants.carol_membership.pk}/")
    refused = api_client.post("/api/v1/invitations/", {"email": "not-an-email", "role": "member"}, format="json")

    # then the errors are in Korean and say so in Content-Language
    assert missing.status_code == 404 and missing["Content-Language"] == "ko"
    assert missing.json()["error"]["code"] == "not_found" and missing.json()["error"]["message"] != "Not found."
    assert refused.status_code == 400 and refused["Content-Language"] == "ko"
    assert refused.json()["error"] == {
        "code": "validation_error", "message": "일부 항목이 올바르지 않습니다.",
        "fields": {"email": ["유효한 이메일 주소를 입력하세요."]},
    }  # fmt: skip


def test_a_revoked_key_is_refused_in_the_callers_language(api_client, tenants):
    # when a Korean-speaking program sends an unknown key
    _bearer(api_client, "aip_unknownkey")
    response = api_client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="ko")

    # then the refusal is Korean; without the header it is English
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "API 키가 올바르지 않거나 폐기되었습니다."
    assert api_client.get("/api/v1/me/").json() == INVALID
