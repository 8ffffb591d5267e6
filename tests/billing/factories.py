"""Factories for every billing model. Balances are changed only through the
ledger service; these factories create the surrounding rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from billing.models import (
    AccountDailyUsage,
    ApiRequestLog,
    CostControl,
    CreditPack,
    DailyProviderCost,
    IdempotencyRecord,
    Payment,
    PaymentCustomer,
    Plan,
    Reservation,
    Subscription,
    TopUpRule,
    UsageRecord,
    UserMonthlyUsage,
    WebhookEvent,
)
from billing.services.ledger import Reference, wallet_credit, wallet_debit, wallet_for
from tests.accounts.factories import AccountFactory, TenantFactory, UserFactory


class _TenantFactory(TenantFactory):
    class Meta:
        abstract = True

    account = factory.SubFactory(AccountFactory)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    monthly_price = Decimal("29.00")
    monthly_credits = Decimal("1000")


class CreditPackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPack
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"pack-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    credits = Decimal("500")
    price = Decimal("5.00")


class SubscriptionFactory(_TenantFactory):
    class Meta:
        model = Subscription

    plan = factory.SubFactory(PlanFactory)
    current_period_start = factory.LazyFunction(timezone.now)
    current_period_end = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class PaymentFactory(_TenantFactory):
    class Meta:
        model = Payment

    pack = factory.SubFactory(CreditPackFactory)
    credits = factory.LazyAttribute(lambda o: o.pack.credits)
    amount = factory.LazyAttribute(lambda o: o.pack.price)
    provider = "dev"
    provider_ref = factory.Sequence(lambda n: f"dev_cs_{n}")


class PaymentCustomerFactory(_TenantFactory):
    class Meta:
        model = PaymentCustomer

    provider = "stripe"
    customer_ref = factory.Sequence(lambda n: f"cus_test_{n}")
    payment_method_ref = factory.Sequence(lambda n: f"pm_test_{n}")
    card_brand = "visa"
    card_last4 = "4242"


class TopUpRuleFactory(_TenantFactory):
    class Meta:
        model = TopUpRule

    kind = TopUpRule.Kind.THRESHOLD
    pack = factory.SubFactory(CreditPackFactory)
    threshold = Decimal("10")


class ReservationFactory(_TenantFactory):
    """A bare row; real holds go through billing.services.reservations."""

    class Meta:
        model = Reservation

    amount = Decimal("5")
    status = Reservation.Status.RELEASED
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))


class IdempotencyRecordFactory(_TenantFactory):
    class Meta:
        model = IdempotencyRecord

    key = factory.Sequence(lambda n: f"idem-{n}")
    fingerprint = "0" * 64


class UsageRecordFactory(_TenantFactory):
    class Meta:
        model = UsageRecord

    feature = "chat"
    model = "local-offline"
    provider = "local"
    tokens_in = 100
    tokens_out = 50
    credits = Decimal("1.5")


class UserMonthlyUsageFactory(_TenantFactory):
    class Meta:
        model = UserMonthlyUsage

    user = factory.SubFactory(UserFactory)
    month = factory.LazyFunction(lambda: date.today().replace(day=1))


class DailyProviderCostFactory(_TenantFactory):
    class Meta:
        model = DailyProviderCost

    date = factory.LazyFunction(date.today)
    provider = "openai"


class AccountDailyUsageFactory(_TenantFactory):
    class Meta:
        model = AccountDailyUsage

    stat_date = factory.LazyFunction(date.today)


class ApiRequestLogFactory(_TenantFactory):
    class Meta:
        model = ApiRequestLog

    service_name = "api"
    endpoint = "/api/v1/members/"
    request_type = "GET"
    status_code = 200


class CostControlFactory(_TenantFactory):
    class Meta:
        model = CostControl

    daily_limit = Decimal("100")


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    provider = "dev"
    event_id = factory.Sequence(lambda n: f"evt_{n}")
    type = "checkout.session.completed"
    payload = factory.LazyFunction(dict)


def fund(account, amount="100", **kwargs):
    """Give an account credits through the ledger (a bonus), as the app would."""
    return wallet_credit(account=account, amount=amount, type="bonus", description="test funds", **kwargs)


def spend(account, amount="1", **kwargs):
    return wallet_debit(account=account, amount=amount, reference=Reference("test", "x"), **kwargs)


def wallet(account):
    return wallet_for(account)
