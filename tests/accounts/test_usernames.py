"""Seed 001 `username`: an optional display handle, editable by its user (API and
profile page), validated, and unique whatever its case (also in the database)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accounts.forms import UserForm
from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/"


def _username(user) -> str:
    return User.objects.get(pk=user.pk).username


def test_a_user_sets_and_changes_their_username_through_the_api(api_client, tenants):
    # given alice signed in, with no username yet
    api_client.force_login(tenants.alice)
    assert _username(tenants.alice) == ""

    # when she picks one, then changes it (Korean letters are letters)
    first = api_client.patch(URL, {"username": "alice.liddell"}, format="json")
    second = api_client.patch(URL, {"username": "앨리스_1"}, format="json")

    # then each is saved and returned, and names her
    assert (first.status_code, first.json()["username"]) == (200, "alice.liddell")
    assert (second.status_code, second.json()["username"]) == (200, "앨리스_1")
    assert _username(tenants.alice) == "앨리스_1"
    assert api_client.get(URL).json()["username"] == "앨리스_1"


def test_a_username_taken_in_any_case_is_a_400_and_changes_nothing(api_client, tenants):
    # given bob holds "Rabbit"
    User.objects.filter(pk=tenants.bob.pk).update(username="Rabbit")
    api_client.force_login(tenants.alice)

    # when alice asks for "rabbit"
    response = api_client.patch(URL, {"username": "rabbit"}, format="json")

    # then it is refused naming the field, and nothing changed
    assert response.status_code == 400
    body = response.json()["error"]
    assert (body["code"], body["fields"]) == ("validation_error", {"username": ["This username is taken."]})
    assert (_username(tenants.alice), _username(tenants.bob)) == ("", "Rabbit")
    # and keeping one's own username in another case is fine
    api_client.force_login(tenants.bob)
    assert api_client.patch(URL, {"username": "RABBIT"}, format="json").json()["username"] == "RABBIT"


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ab", "A username has 3 to 50 characters."),
        ("a" * 51, "A username has 3 to 50 characters."),
        ("alice liddell", "Use letters and digits, with . _ or - between them."),
        ("_alice", "Use letters and digits, with . _ or - between them."),
        ("alice.", "Use letters and digits, with . _ or - between them."),
        ("al..ice", "Use letters and digits, with . _ or - between them."),
        ("<script>", "Use letters and digits, with . _ or - between them."),
        ("12345", "A username needs at least one letter."),
    ],
)
def test_malformed_usernames_are_refused(api_client, tenants, username, message):
    # given alice signed in
    api_client.force_login(tenants.alice)

    # when she asks for a malformed username
    response = api_client.patch(URL, {"username": username}, format="json")

    # then it is a 400 naming the rule, and nothing changed
    assert response.status_code == 400
    assert message in response.json()["error"]["fields"]["username"][0]
    assert _username(tenants.alice) == ""


def test_many_users_may_have_no_username_and_one_may_clear_theirs(api_client, tenants):
    # given bob with a username and alice without
    User.objects.filter(pk=tenants.bob.pk).update(username="bob")
    api_client.force_login(tenants.bob)

    # when bob clears his
    response = api_client.patch(URL, {"username": ""}, format="json")

    # then both have none, which is allowed
    assert (response.status_code, response.json()["username"]) == (200, "")
    assert (_username(tenants.alice), _username(tenants.bob)) == ("", "")


def test_the_database_refuses_a_second_user_with_the_same_username_in_another_case(tenants):
    User.objects.filter(pk=tenants.alice.pk).update(username="Alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=tenants.bob.pk).update(username="ALICE")


def test_the_profile_form_validates_the_username(tenants):
    # given bob holds "bob"
    User.objects.filter(pk=tenants.bob.pk).update(username="bob")
    data = {"full_name": "Alice", "locale": "en", "avatar_url": "", "business_name": ""}

    # when alice's profile form asks for "BOB", then for "alice-l"
    taken = UserForm({**data, "username": "BOB"}, instance=User.objects.get(pk=tenants.alice.pk))
    free = UserForm({**data, "username": "alice-l"}, instance=User.objects.get(pk=tenants.alice.pk))

    # then the first is refused and the second saved
    assert not taken.is_valid()
    assert taken.errors["__all__"] == ["This username is taken."]
    assert free.is_valid(), free.errors
    free.save()
    assert _username(tenants.alice) == "alice-l"
    assert UserFactory.build().username == ""
