"""One usage record per AI call keeps the seeds' aggregates current; plan limits use them."""

from datetime import date
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from aiplatform.errors import LimitReached
from billing.models import AccountDailyUsage, DailyProviderCost, UsageRecord, UserMonthlyUsage
from billing.services.limits import generation_check, limit_check, plan_usage
from billing.services.subscriptions import subscription_for
from billing.services.usage import usage_record, usage_summary

pytestmark = pytest.mark.django_db


def _call(t, user=None, **kw):
    args = dict(feature="chat", model="gpt-4o-mini", provider="openai", tokens_in=100, tokens_out=50,
                provider_cost="0.002", credits="1.5", latency_ms=300)  # fmt: skip
    args.update(kw)
    return usage_record(account=t.a, user=user, **args)


def test_each_call_updates_all_three_aggregates(tenants):
    # when alice makes two calls and an anonymous system call happens
    _call(tenants, user=tenants.alice)
    _call(tenants, user=tenants.alice, provider="anthropic", model="claude", credits="2")
    _call(tenants, user=None, feature="embedding", credits="0")
    # then
    with account_context(tenants.a.id):
        assert UsageRecord.objects.count() == 3
        month = UserMonthlyUsage.objects.get(user=tenants.alice)
        assert (month.generations, month.ai_credits_used, month.tokens_used) == (2, Decimal("3.5000"), 300)
        costs = {(c.provider, c.user_id): (c.generations_count, c.cost) for c in DailyProviderCost.objects.all()}
        assert costs == {
            ("openai", tenants.alice.id): (1, Decimal("0.002000")),
            ("anthropic", tenants.alice.id): (1, Decimal("0.002000")),
            ("openai", None): (1, Decimal("0.002000")),
        }
        day = AccountDailyUsage.objects.get(stat_date=date.today())
        assert (day.ai_calls, day.total_credits_used, day.tokens_used) == (3, Decimal("3.5000"), 450)
    with account_context(tenants.b.id):
        assert UsageRecord.objects.count() == 0


def test_usage_summary_groups_by_day_feature_and_model(tenants):
    _call(tenants, user=tenants.alice)
    _call(tenants, user=tenants.alice, feature="service", model="claude", credits="4")
    with account_context(tenants.a.id):
        summary = usage_summary(tenants.a, days=7)
    assert len(summary["daily"]) == 7
    assert summary["daily"][-1]["calls"] == 2
    assert [(r["feature"], r["credits"]) for r in summary["by_feature"]] == [
        ("service", Decimal("4.0000")),
        ("chat", Decimal("1.5000")),
    ]


def test_monthly_generation_limit_is_enforced_with_a_clear_error(tenants):
    subscription_for(tenants.a)  # free plan: 50 generations
    with account_context(tenants.a.id):
        AccountDailyUsage.objects.create(account=tenants.a, stat_date=date.today(), ai_calls=50)
        with pytest.raises(LimitReached) as err:
            generation_check(account=tenants.a)
    assert err.value.status == 409
    assert "50 ai generations this month" in err.value.message
    assert err.value.extra == {"limit": 50, "used": 50, "name": "monthly_generations"}


def test_limit_check_allows_up_to_the_limit(tenants):
    limit_check(account=tenants.a, name="creators", used=tenants.a.creator_limit - 1)
    with pytest.raises(LimitReached):
        limit_check(account=tenants.a, name="creators", used=tenants.a.creator_limit)


def test_plan_usage_reports_every_limit(tenants):
    subscription_for(tenants.a)
    with account_context(tenants.a.id):
        usage = {u.name: (u.used, u.limit) for u in plan_usage(tenants.a, storage_gb=2)}
    assert usage["users"] == (2, 3)
    assert usage["storage_gb"] == (2, 5)
    assert usage["monthly_generations"] == (0, 50)
