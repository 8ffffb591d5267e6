"""Sign-up through allauth: what a new user gets, mandatory email verification,
duplicate addresses and password hashing."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import Account, Membership, Role, User, UserPreferences, UserProfile
from accounts.tenancy.context import rls_bypass
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-passw0rd!"
CONFIRM_LINK = re.compile(r"http://testserver(/auth/confirm-email/[^/\s]+/)")


def _signup(client, email: str, password: str = PASSWORD):
    return client.post("/auth/signup/", {"email": email, "password1": password, "password2": password})


def _memberships_of(user: User) -> list[tuple[str, bool, str, str]]:
    with rls_bypass("test assertion"):
        return list(
            Membership.objects.filter(user=user)
            .order_by("created_at")
            .values_list("account__name", "account__is_personal", "account__plan_type", "role")
        )


def test_signup_creates_user_with_personal_account_profile_and_preferences(client):
    # given an anonymous visitor

    # when they sign up
    response = _signup(client, "new.person@example.com")

    # then they are sent to the "verify your email" page
    assert response.status_code == 302
    assert response["Location"] == "/auth/confirm-email/"
    user = User.objects.get(email="new.person@example.com")
    assert user.is_active is True
    assert user.role == User.PlatformRole.USER
    assert user.login_provider == User.LoginProvider.EMAIL
    # and they own a personal account on the individual plan
    assert _memberships_of(user) == [("new.person's workspace", True, Account.PlanType.INDIVIDUAL, Role.OWNER)]
    with rls_bypass("test assertion"):
        account = Account.objects.get(memberships__user=user)
    assert (account.user_limit, account.creator_limit, account.billing_email) == (3, 5, "new.person@example.com")
    # and a profile and default preferences exist
    assert UserProfile.objects.filter(user=user).count() == 1
    preferences = UserPreferences.objects.get(user=user)
    assert (preferences.timezone, preferences.theme, preferences.email_notifications) == ("UTC", "system", True)


def test_signup_hashes_the_password_with_argon2id(client, settings):
    # given an anonymous visitor, and production's hashers (the test settings put a fast one first)
    settings.PASSWORD_HASHERS = settings.PRODUCTION_PASSWORD_HASHERS

    # when they sign up
    _signup(client, "hashed@example.com")

    # then only an argon2id hash of the password is stored
    user = User.objects.get(email="hashed@example.com")
    assert user.password.startswith("argon2$argon2id$")
    assert PASSWORD not in user.password
    assert user.check_password(PASSWORD) is True


def test_signup_sends_a_verification_email_and_leaves_the_address_unverified(client):
    # given an anonymous visitor

    # when they sign up
    _signup(client, "verify.me@example.com")

    # then exactly one confirmation mail went to the address
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["verify.me@example.com"]
    assert message.subject == "[aiplatform] Please Confirm Your Email Address"
    assert CONFIRM_LINK.search(message.body) is not None
    # and the address is recorded but not verified
    assert list(EmailAddress.objects.filter(email="verify.me@example.com").values_list("verified", "primary")) == [
        (False, True)
    ]
    # and the sign-up did not sign them in
    assert "_auth_user_id" not in client.session


def test_login_before_verifying_the_email_does_not_get_in(client):
    # given a user who signed up but never opened the confirmation mail
    _signup(client, "unverified@example.com")
    client.cookies.clear()

    # when they sign in with the right password
    response = client.post("/auth/login/", {"login": "unverified@example.com", "password": PASSWORD})

    # then they are sent back to "verify your email", not signed in
    assert response.status_code == 302
    assert response["Location"] == "/auth/confirm-email/"
    assert "_auth_user_id" not in client.session
    # and the dashboard still asks them to sign in
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 302
    assert dashboard["Location"] == "/auth/login/?next=/dashboard/"


def test_following_the_confirmation_link_verifies_and_signs_in(client):
    # given a user who just signed up
    _signup(client, "confirmed@example.com")
    link = CONFIRM_LINK.search(mail.outbox[0].body).group(1)

    # when they confirm from the mailed link
    response = client.post(link)

    # then the address is verified and they are signed in on their dashboard
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    user = User.objects.get(email="confirmed@example.com")
    assert EmailAddress.objects.get(user=user).verified is True
    assert client.session["_auth_user_id"] == str(user.pk)
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200
    assert "confirmed&#x27;s workspace" in dashboard.content.decode()


@pytest.mark.parametrize("typed", ["taken@example.com", "TAKEN@Example.COM"])
def test_signup_with_a_registered_email_is_a_form_error_in_any_letter_case(client, typed):
    # given a registered user
    existing = UserFactory(email="taken@example.com")

    # when someone signs up with the same address
    response = _signup(client, typed)

    # then the form says the address is taken
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": ["A user is already registered with this email address."]}
    assert "A user is already registered with this email address." in response.content.decode()
    # and no second user, account or mail was created
    assert list(User.objects.values_list("pk", flat=True)) == [existing.pk]
    assert _memberships_of(existing) == []
    with rls_bypass("test assertion"):
        assert Account.objects.count() == 0
    assert mail.outbox == []


def test_signup_with_mismatched_passwords_creates_nothing(client):
    # given an anonymous visitor

    # when the two passwords differ
    response = client.post(
        "/auth/signup/", {"email": "typo@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"}
    )

    # then the form reports it and nothing is created
    assert response.status_code == 200
    assert response.context["form"].errors == {"password2": ["You must type the same password each time."]}
    assert User.objects.filter(email="typo@example.com").exists() is False
    assert mail.outbox == []
