"""Plans set the account's limits and grant credits once per period."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account
from accounts.tenancy.context import account_context
from aiplatform.errors import Forbidden, InvalidInput
from billing.models import CreditTransaction, Plan, Subscription, Wallet
from billing.services.subscriptions import (
    subscription_cancel,
    subscription_change,
    subscription_for,
    subscription_grant_period,
    subscription_mark_past_due,
    subscriptions_renew,
)

pytestmark = pytest.mark.django_db


def _grants(account):
    with account_context(account.id):
        return list(
            CreditTransaction.objects.filter(account=account, type="grant")
            .order_by("created_at")
            .values_list("amount", flat=True)
        )


def _balance(account):
    with account_context(account.id):
        return Wallet.objects.get(account=account).balance


def test_a_new_account_starts_on_the_free_plan_with_its_credits(tenants):
    # when the subscription is first read
    sub = subscription_for(tenants.a)
    # then the free plan is active and its monthly credits were granted once
    assert (sub.plan.code, sub.status) == ("free", "active")
    assert _grants(tenants.a) == [Decimal("100.0000")]
    subscription_for(tenants.a)
    assert _grants(tenants.a) == [Decimal("100.0000")]


def test_changing_plan_applies_its_limits_and_grants_with_a_trial(tenants):
    subscription_for(tenants.a)
    # when alice (owner) moves account A to the business plan
    sub = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="business")
    # then the account's limits follow the plan, a trial starts, credits are granted
    with account_context(tenants.a.id):
        account = Account.objects.get(pk=tenants.a.pk)
    business = Plan.objects.get(code="business")
    assert (account.plan_type, account.user_limit, account.subscription_status) == ("team", 10, "trialing")
    assert sub.trial_ends_at is not None
    assert _grants(tenants.a) == [Decimal("100.0000"), business.monthly_credits]
    assert _balance(tenants.a) == Decimal("6100.0000")


def test_a_member_cannot_change_the_plan(tenants):
    subscription_for(tenants.a)
    with pytest.raises(Forbidden):
        subscription_change(account=tenants.a, actor=tenants.bob_membership, plan_code="agency")
    assert subscription_for(tenants.a).plan.code == "free"


def test_an_unknown_plan_is_a_validation_error(tenants):
    with pytest.raises(InvalidInput):
        subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="platinum")


def test_renewal_rolls_the_period_and_grants_once(tenants):
    sub = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="creator")
    with account_context(tenants.a.id):
        Subscription.objects.filter(pk=sub.pk).update(
            current_period_end=timezone.now() - timedelta(minutes=1),
            trial_ends_at=timezone.now() - timedelta(minutes=1),
        )
    # when the beat task runs twice
    assert subscriptions_renew() == 1
    assert subscriptions_renew() == 0
    # then one new period was granted and the trial became active
    sub = subscription_for(tenants.a)
    assert sub.status == "active"
    assert sub.current_period_end > timezone.now()
    assert _grants(tenants.a) == [Decimal("100.0000"), Decimal("2000.0000"), Decimal("2000.0000")]


def test_grant_for_the_same_period_is_idempotent(tenants):
    sub = subscription_for(tenants.a)
    sub.last_granted_period = None
    assert subscription_grant_period(sub) is not None  # same idempotency key: the first row back
    assert _grants(tenants.a) == [Decimal("100.0000")]


def test_past_due_subscriptions_get_no_credits_and_fall_back_to_free_after_grace(tenants):
    sub = subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="creator")
    subscription_mark_past_due(account=tenants.a)
    with account_context(tenants.a.id):
        Subscription.objects.filter(pk=sub.pk).update(
            current_period_end=timezone.now() - timedelta(days=1), past_due_since=timezone.now() - timedelta(days=20)
        )
    subscriptions_renew()
    sub = subscription_for(tenants.a)
    assert (sub.plan.code, sub.status) == ("free", "active")


def test_cancel_at_period_end_moves_to_free_at_renewal(tenants):
    subscription_change(account=tenants.a, actor=tenants.alice_membership, plan_code="creator")
    with pytest.raises(Forbidden):
        subscription_cancel(account=tenants.a, actor=tenants.bob_membership)
    sub = subscription_cancel(account=tenants.a, actor=tenants.alice_membership)
    assert sub.cancel_at_period_end is True
    with account_context(tenants.a.id):
        Subscription.objects.filter(pk=sub.pk).update(current_period_end=timezone.now() - timedelta(seconds=1))
    subscriptions_renew()
    assert subscription_for(tenants.a).plan.code == "free"
