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
    # when alice asks for two generations, and an anonymous embedding call and a failed generation happen
    _call(tenants, user=tenants.alice, generation=True)
    _call(tenants, user=tenants.alice, provider="anthropic", model="claude", credits="2", generation=True)
    _call(tenants, user=None, feature="embedding", credits="0")
    _call(tenants, user=tenants.alice, credits="0", status="error", generation=True)
    # then calls, charged credits and provider cost are counted, and only the delivered generations
    with account_context(tenants.a.id):
        assert UsageRecord.objects.count() == 4
        month = UserMonthlyUsage.objects.get(user=tenants.alice)
        assert (month.generations, month.ai_credits_used, month.provider_cost, month.tokens_used) == (
            2, Decimal("3.5000"), Decimal("0.006000"), 450,
        )  # fmt: skip
        costs = {(c.provider, c.user_id): (c.generations_count, c.cost) for c in DailyProviderCost.objects.all()}
        assert costs == {
            ("openai", tenants.alice.id): (1, Decimal("0.004000")),
            ("anthropic", tenants.alice.id): (1, Decimal("0.002000")),
            ("openai", None): (0, Decimal("0.002000")),
        }
        day = AccountDailyUsage.objects.get(stat_date=date.today())
        assert (day.ai_calls, day.generations, day.total_credits_used, day.tokens_used) == (
            4, 2, Decimal("3.5000"), 600,
        )  # fmt: skip
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


def test_monthly_generation_limit_names_the_limit_the_figure_and_the_reset(tenants):
    subscription_for(tenants.a)  # free plan: 50 generations
    with account_context(tenants.a.id):
        AccountDailyUsage.objects.create(account=tenants.a, stat_date=date(2026, 12, 3), ai_calls=90, generations=49)
        generation_check(account=tenants.a, today=date(2026, 12, 20))  # the 50th is allowed
        AccountDailyUsage.objects.filter(account=tenants.a).update(generations=50)
        with pytest.raises(LimitReached) as err:
            generation_check(account=tenants.a, today=date(2026, 12, 20))
        generation_check(account=tenants.a, today=date(2027, 1, 1))  # a new month
    assert (err.value.status, err.value.code) == (409, "plan_limit_reached")
    assert err.value.message == (
        "Your plan allows 50 AI generations a month and 50 were used this month. "
        "The count starts again on 2027-01-01; upgrade the plan to continue before then."
    )
    assert err.value.extra == {"limit": 50, "used": 50, "name": "monthly_generations", "resets_on": "2027-01-01"}


def test_an_account_without_a_subscription_row_gets_the_free_plans_generations(tenants):
    with account_context(tenants.a.id):
        AccountDailyUsage.objects.create(account=tenants.a, stat_date=date.today(), generations=50)
        with pytest.raises(LimitReached) as err:
            generation_check(account=tenants.a)
    assert err.value.extra["limit"] == 50


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


@pytest.fixture
def embedder(chat_model):
    from aiplatform.ai.models import AiModel
    from tests.ai.factories import AiModelFactory

    return AiModelFactory(name="embed-test", kind=AiModel.Kind.EMBEDDING, provider_model="loopback-embed",
                          dimensions=8, credits_in_per_1k=Decimal("10"), credits_out_per_1k=0)  # fmt: skip


def test_fifty_embedding_batches_leave_the_generation_count_at_zero(tenants, embedder, model_server):
    from aiplatform.ai import gateway

    subscription_for(tenants.a)
    # when a mid-sized upload is embedded in 50 batches
    for n in range(50):
        gateway.embed(account=tenants.a, user=tenants.alice, model="embed-test", texts=[f"chunk {n}"])
    # then no generation was counted, and a service run or chat answer is still allowed
    with account_context(tenants.a.id):
        assert plan_usage_of(tenants.a)["monthly_generations"] == (0, 50)
        assert AccountDailyUsage.objects.get().ai_calls == 50
        generation_check(account=tenants.a)


def plan_usage_of(account) -> dict:
    return {u.name: (u.used, u.limit) for u in plan_usage(account)}
