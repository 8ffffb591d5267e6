"""Brute-force protection of the two sign-in forms, counted in Redis.

allauth's form: ACCOUNT_RATE_LIMITS["login_failed"] = 10 a minute per IP and
5 per 5 minutes per address. Admin form: ADMIN_LOGIN_RATE_LIMIT (10) failures a
minute per IP (aiplatform/admin.py).
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-1"


def _failed_logins(client: Client, count: int, *, distinct_emails: bool = True) -> list[int]:
    statuses = []
    for n in range(count):
        email = f"nobody{n}@example.com" if distinct_emails else "victim@example.com"
        statuses.append(client.post("/auth/login/", {"login": email, "password": WRONG}).status_code)
    return statuses


def test_eleventh_failed_login_from_one_ip_within_a_minute_gets_429(client):
    # given ten failed sign-ins from one address, each for a different account
    assert _failed_logins(client, 10) == [200] * 10

    # when the eleventh comes in
    response = client.post("/auth/login/", {"login": "another@example.com", "password": WRONG})

    # then it is refused with 429 and nobody is signed in
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_blocked_ip_cannot_sign_in_even_with_the_right_password(client):
    # given a real user and an IP that used up its failed sign-ins
    user = UserFactory(email="real@example.com")
    _failed_logins(client, 10)

    # when the right password is sent from that IP
    response = client.post("/auth/login/", {"login": user.email, "password": PASSWORD})

    # then the attempt is refused before the password is checked
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_ip_limit_does_not_block_another_ip(client):
    # given an IP that used up its failed sign-ins
    user = UserFactory(email="elsewhere@example.com")
    _failed_logins(client, 10)
    client.post("/auth/login/", {"login": "x@example.com", "password": WRONG})
    other = Client(REMOTE_ADDR="203.0.113.7")

    # when the user signs in from another address
    response = other.post("/auth/login/", {"login": user.email, "password": PASSWORD})

    # then they get in
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert other.session["_auth_user_id"] == str(user.pk)


def test_sixth_failed_login_for_one_address_gets_429(client):
    # given five failed sign-ins for one address (the per-address limit is 5 in 5 minutes)
    victim = UserFactory(email="victim@example.com")
    assert _failed_logins(client, 5, distinct_emails=False) == [200] * 5

    # when a sixth comes in, even with the right password
    response = client.post("/auth/login/", {"login": victim.email, "password": PASSWORD})

    # then it is refused
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failed_logins_below_the_limit_show_the_form_error(client):
    # given an anonymous visitor

    # when they send a wrong password
    response = client.post("/auth/login/", {"login": "someone@example.com", "password": WRONG})

    # then the form explains and nobody is signed in
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The email address and/or password you specified are not correct."
    ]
    assert "_auth_user_id" not in client.session


def _staff() -> User:
    return UserFactory(email="operator@example.com", role=User.PlatformRole.ADMIN)


def _admin_login(client: Client, email: str, password: str):
    # The admin form posts `next` back; without it Django falls back to LOGIN_REDIRECT_URL.
    return client.post("/admin/login/", {"username": email, "password": password, "next": "/admin/"})


def test_eleventh_failed_admin_login_gets_429_with_retry_after(client):
    # given an operator and ten failed admin sign-ins from one IP
    operator = _staff()
    statuses = [_admin_login(client, operator.email, WRONG).status_code for _ in range(10)]
    assert statuses == [200] * 10

    # when the eleventh comes in
    response = _admin_login(client, operator.email, WRONG)

    # then it is refused with 429 and a Retry-After within the one-minute window
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"] == "text/plain"
    assert response.content.decode() == (
        f"Too many failed sign-in attempts. Try again in {response['Retry-After']} seconds."
    )
    assert "_auth_user_id" not in client.session


def test_blocked_admin_login_refuses_the_right_password_too(client):
    # given an operator and an IP that used up its failed admin sign-ins
    operator = _staff()
    for _ in range(10):
        _admin_login(client, operator.email, WRONG)

    # when the right password is sent from that IP
    response = _admin_login(client, operator.email, PASSWORD)

    # then it is refused and the operator is not signed in
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_successful_admin_logins_are_not_counted(client):
    # given an operator who signs in and out eleven times from one IP
    operator = _staff()
    for _ in range(11):
        assert _admin_login(client, operator.email, PASSWORD).status_code == 302
        client.logout()

    # when they sign in once more
    response = _admin_login(client, operator.email, PASSWORD)

    # then they get in
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(operator.pk)
