"""Welcome credits (seed 001 `users.credits DEFAULT 1000`): a sign-up's personal
account starts with WELCOME_CREDITS, once per user, and nothing else grants them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Account, User
from accounts.services.accounts import account_create
from accounts.tenancy.context import account_context, rls_bypass
from billing.models import CreditTransaction, Wallet
from billing.services.welcome import welcome_credits_grant

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-passw0rd!"


def _signup(client, email: str):
    return client.post("/auth/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def _personal_account(user: User) -> Account:
    with rls_bypass("test assertion"):
        return Account.objects.get(memberships__user=user, is_personal=True)


def _balance(account: Account) -> Decimal:
    with account_context(account.id):
        wallet = Wallet.objects.filter(account=account).first()
    return wallet.balance if wallet else Decimal("0")


def _welcome_rows() -> list[tuple]:
    with rls_bypass("test assertion"):
        return list(
            CreditTransaction.objects.filter(reference_type="welcome")
            .values_list("account_id", "type", "amount", "description")
        )  # fmt: skip


def test_a_sign_up_starts_with_the_welcome_credits(client, settings):
    # given the default of seed 001
    assert settings.WELCOME_CREDITS == 1000

    # when a visitor signs up
    response = _signup(client, "new.person@example.com")

    # then their personal account holds 1000 credits, granted as one welcome bonus
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    account = _personal_account(user)
    assert _balance(account) == Decimal("1000")
    assert _welcome_rows() == [(account.id, "bonus", Decimal("1000"), "Welcome credits")]
    with account_context(account.id):
        assert Wallet.objects.get(account=account).lifetime_credits == Decimal("1000")


def test_the_welcome_credits_follow_the_setting_and_zero_grants_nothing(client, settings):
    # given an operator who sets 250, then turns them off
    settings.WELCOME_CREDITS = 250
    _signup(client, "first@example.com")
    settings.WELCOME_CREDITS = 0

    # when a second visitor signs up
    _signup(client, "second@example.com")

    # then the first got 250 and the second nothing
    first = _personal_account(User.objects.get(email="first@example.com"))
    second = _personal_account(User.objects.get(email="second@example.com"))
    assert (_balance(first), _balance(second)) == (Decimal("250"), Decimal("0"))
    assert [amount for _, _, amount, _ in _welcome_rows()] == [Decimal("250")]


def test_a_user_is_welcomed_once_whatever_the_account(client):
    # given a user who signed up and was welcomed
    _signup(client, "farmer@example.com")
    user = User.objects.get(email="farmer@example.com")
    personal = _personal_account(user)

    # when the grant is asked again, for the same account and for a new account of theirs
    again = welcome_credits_grant(account=personal, user=user)
    other = account_create(name="Second workspace", owner=user)
    elsewhere = welcome_credits_grant(account=other, user=user)

    # then nothing more is granted: one welcome, 1000 credits in all
    assert again is not None and again.account_id == personal.id
    assert elsewhere is None
    assert (_balance(personal), _balance(other)) == (Decimal("1000"), Decimal("0"))
    assert len(_welcome_rows()) == 1


def test_creating_another_account_grants_no_welcome_credits(client):
    # given a signed-up user
    _signup(client, "owner@example.com")
    user = User.objects.get(email="owner@example.com")

    # when they create a team account
    team = account_create(name="Team", owner=user)

    # then the team starts empty
    assert _balance(team) == Decimal("0")
    assert len(_welcome_rows()) == 1


def test_a_social_sign_up_is_welcomed_too(rf):
    # given a first Google login (allauth's sociallogin, as the provider callback builds it)
    from allauth.socialaccount.models import SocialAccount, SocialLogin
    from django.contrib.sessions.backends.db import SessionStore

    from billing.adapters import SocialAccountAdapter

    request = rf.get("/")
    request.session = SessionStore()
    login = SocialLogin(user=User(email="social@example.com"), account=SocialAccount(provider="google", uid="g-1"))

    # when the adapter saves the new user
    user = SocialAccountAdapter(request).save_user(request, login)

    # then their personal account holds the welcome credits, once
    account = _personal_account(user)
    assert _balance(account) == Decimal("1000")
    assert _welcome_rows() == [(account.id, "bonus", Decimal("1000"), "Welcome credits")]
