"""Factories for every accounts model. Tenant rows are written inside their
account's context, as the application writes them (RLS WITH CHECK applies)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import (
    Account,
    ApiKey,
    AppSetting,
    Invitation,
    Membership,
    Role,
    User,
    UserPreferences,
    UserProfile,
)
from accounts.models.access import token_digest
from accounts.services.accounts import account_create
from accounts.tenancy.context import account_context

PASSWORD = "correct-horse-battery-9"
# Hash once: argon2 is deliberately slow, and most tests do not sign in by password.
_PASSWORD_HASH = make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = _PASSWORD_HASH

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, primary=True, verified=True)


class UserProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserProfile

    user = factory.SubFactory(UserFactory)
    brand_name = factory.Faker("company")


class UserPreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserPreferences

    user = factory.SubFactory(UserFactory)


class AppSettingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppSetting

    key = factory.Sequence(lambda n: f"feature.flag_{n}")
    value = {"enabled": True}


class AccountFactory(factory.Factory):
    """Accounts are created through the service, which writes the owner membership."""

    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    owner = factory.SubFactory(UserFactory)
    plan_type = Account.PlanType.TEAM

    @classmethod
    def _create(cls, model_class, *, name, owner, plan_type, **kwargs):
        account = account_create(name=name, owner=owner, plan_type=plan_type)
        if kwargs:
            with account_context(account.id):
                Account.objects.filter(pk=account.pk).update(**kwargs)
                account.refresh_from_db()
        return account


class TenantFactory(factory.django.DjangoModelFactory):
    """Base of factories of tenant rows: created in their account's context (RLS)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with account_context(kwargs["account"].id):
            return super()._create(model_class, *args, **kwargs)


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class InvitationFactory(TenantFactory):
    class Meta:
        model = Invitation

    account = factory.SubFactory(AccountFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.MEMBER
    token_hash = factory.LazyFunction(lambda: token_digest(secrets.token_urlsafe(16)))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class ApiKeyFactory(TenantFactory):
    class Meta:
        model = ApiKey

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"key {n}")
    prefix = factory.LazyFunction(lambda: secrets.token_hex(4))
    key_hash = factory.LazyFunction(lambda: token_digest(secrets.token_urlsafe(16)))
    created_by = factory.SubFactory(UserFactory)


@dataclass
class Tenants:
    alice: User  # owner of A
    bob: User  # member of A
    carol: User  # owner of B, the outsider
    a: Account
    b: Account
    alice_membership: Membership
    bob_membership: Membership
    carol_membership: Membership


def tenant_setup() -> Tenants:
    alice, bob, carol = (
        UserFactory(email="alice@example.com"),
        UserFactory(email="bob@example.com"),
        UserFactory(email="carol@example.com"),
    )
    a = AccountFactory(name="Account A", owner=alice)
    b = AccountFactory(name="Account B", owner=carol)
    bob_m = MembershipFactory(account=a, user=bob, role=Role.MEMBER)
    with account_context(a.id):
        alice_m = Membership.objects.get(account=a, user=alice)
    with account_context(b.id):
        carol_m = Membership.objects.get(account=b, user=carol)
    return Tenants(alice, bob, carol, a, b, alice_m, bob_m, carol_m)
