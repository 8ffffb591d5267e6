"""GET / PATCH /api/v1/me/: the signed-in user's own record."""

from __future__ import annotations

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/"


def test_me_returns_the_signed_in_user(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she reads /me
    response = api_client.get(URL)

    # then she gets her own record
    assert response.status_code == 200
    alice = tenants.alice
    assert response.json() == {
        "id": str(alice.pk),
        "email": "alice@example.com",
        "full_name": alice.full_name,
        "username": "",
        "avatar_url": "",
        "locale": "en",
        "business_name": "",
        "role": "user",
        "login_provider": "email",
        "created_at": alice.created_at.isoformat().replace("+00:00", "Z"),
    }


def test_me_patch_updates_editable_fields(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she changes her name, locale and business
    response = api_client.patch(
        URL, {"full_name": "Alice Liddell", "locale": "ko", "business_name": "Wonderland Ltd"}, format="json"
    )

    # then the record is saved and returned
    assert response.status_code == 200
    assert (response.json()["full_name"], response.json()["locale"], response.json()["business_name"]) == (
        "Alice Liddell",
        "ko",
        "Wonderland Ltd",
    )
    alice = User.objects.get(pk=tenants.alice.pk)
    assert (alice.full_name, alice.locale, alice.business_name) == ("Alice Liddell", "ko", "Wonderland Ltd")


def test_me_patch_ignores_read_only_fields(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she tries to change her email and make herself platform staff
    response = api_client.patch(URL, {"email": "mallory@example.com", "role": "super_admin"}, format="json")

    # then the call succeeds but nothing of that changes
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["role"]) == ("alice@example.com", "user")
    alice = User.objects.get(pk=tenants.alice.pk)
    assert (alice.email, alice.role, alice.is_staff) == ("alice@example.com", "user", False)


def test_me_patch_with_invalid_values_is_400_with_fields_and_changes_nothing(api_client, tenants):
    # given alice signed in
    api_client.force_login(tenants.alice)
    before = tenants.alice.full_name

    # when she sends an unknown locale and a malformed avatar URL
    response = api_client.patch(URL, {"full_name": "Changed", "locale": "xx", "avatar_url": "not a url"}, format="json")

    # then the error names both fields and nothing was saved
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"locale": ['"xx" is not a valid choice.'], "avatar_url": ["Enter a valid URL."]},
        }
    }
    alice = User.objects.get(pk=tenants.alice.pk)
    assert (alice.full_name, alice.locale, alice.avatar_url) == (before, "en", "")


def test_me_without_credentials_is_401(api_client, tenants):
    # given nobody signed in

    # when /me is read
    response = api_client.get(URL)

    # then it answers 401 in the error shape, asking for a Bearer key
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided."}
    }


def test_me_patch_without_credentials_is_401_and_changes_nothing(api_client, tenants):
    # given nobody signed in
    before = tenants.alice.full_name

    # when someone tries to patch
    response = api_client.patch(URL, {"full_name": "Hacked"}, format="json")

    # then it is refused and no user changed
    assert response.status_code == 401
    assert list(User.objects.filter(full_name="Hacked")) == []
    assert User.objects.get(pk=tenants.alice.pk).full_name == before
