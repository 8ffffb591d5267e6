"""Spend alerts reach owners once per period; the shut-off stops AI calls until an owner lifts it."""

from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import Role
from accounts.tenancy.context import account_context
from aiplatform.ai import gateway
from aiplatform.errors import Forbidden, InvalidInput
from billing.models import UsageRecord
from billing.services.controls import (
    AiShutoff,
    ai_call_guard,
    cost_control_update,
    shutoff_engage,
    shutoff_lift,
    spend_check,
)
from billing.services.usage import usage_record
from tests.accounts.factories import MembershipFactory, UserFactory, UserPreferencesFactory

pytestmark = pytest.mark.django_db


def _spend(t, credits):
    usage_record(account=t.a, user=t.alice, feature="chat", model="m", provider="p", credits=credits)


def test_daily_limit_alerts_owners_once_and_can_shut_off(tenants, django_capture_on_commit_callbacks):
    cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="10", auto_shutoff=True)
    # when spending passes the daily limit, twice
    with django_capture_on_commit_callbacks(execute=True):
        _spend(tenants, "6")
        _spend(tenants, "5")
        _spend(tenants, "1")
    # then one alert went to the owner, and AI calls are blocked
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "over its daily limit of 10.0000" in mail.outbox[0].body
    with pytest.raises(AiShutoff) as err:
        ai_call_guard(account=tenants.a)
    assert err.value.status == 403 and "daily limit of 10.0000 credits reached" in err.value.message
    assert spend_check(account=tenants.a) == []  # already alerted today


def test_only_owners_lift_the_shutoff(tenants):
    shutoff_engage(account=tenants.a, actor=tenants.alice_membership, reason="runaway costs")
    with pytest.raises(Forbidden):
        shutoff_engage(account=tenants.a, actor=tenants.bob_membership, reason="x")
    with pytest.raises(Forbidden):
        shutoff_lift(account=tenants.a, actor=tenants.bob_membership)
    with pytest.raises(AiShutoff):
        ai_call_guard(account=tenants.a)
    shutoff_lift(account=tenants.a, actor=tenants.alice_membership)
    ai_call_guard(account=tenants.a)  # no error


def _calls(account) -> list[tuple[str, str]]:
    with account_context(account.id):
        return list(UsageRecord.objects.values_list("feature", "status"))


def _ask(account, user):
    return gateway.complete(account=account, user=user, model="test-model", feature="chat",
                            messages=[{"role": "user", "content": "Hello"}])  # fmt: skip


def test_the_shutoff_stops_the_accounts_ai_calls_and_no_other_accounts(tenants, chat_model, model_server):
    # given both accounts have made a call (each passed the guard, which the gateway remembers briefly)
    model_server.reply("Hi", times=3)
    _ask(tenants.a, tenants.alice)
    _ask(tenants.b, tenants.carol)
    # when an admin of A engages the shut-off
    shutoff_engage(account=tenants.a, actor=tenants.alice_membership, reason="runaway costs")
    # then A's next call is refused before the provider is asked, and nothing is recorded for it
    with pytest.raises(AiShutoff) as err:
        _ask(tenants.a, tenants.alice)
    assert (err.value.status, err.value.code) == (403, "ai_shutoff")
    assert "(runaway costs)" in err.value.message
    assert len(model_server.requests) == 2
    assert _calls(tenants.a) == [("chat", "ok")]
    # and B goes on as before
    assert _ask(tenants.b, tenants.carol).text == "Hi"
    assert len(model_server.requests) == 3
    assert _calls(tenants.b) == [("chat", "ok"), ("chat", "ok")]
    ai_call_guard(account=tenants.b)


def test_limits_are_validated(tenants):
    with pytest.raises(InvalidInput):
        cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="-5")
    with pytest.raises(InvalidInput):
        cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="50", monthly_limit="10")
    control = cost_control_update(account=tenants.a, actor=tenants.alice_membership, monthly_limit="100")
    assert (control.daily_limit, control.monthly_limit) == (None, Decimal("100.0000"))


def test_alerts_and_the_automatic_shutoff_count_charged_credits_only(tenants, django_capture_on_commit_callbacks):
    cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="10", auto_shutoff=True)
    # when calls that cost the provider money fail or are refused, charging nothing
    with django_capture_on_commit_callbacks(execute=True):
        for status in ("error", "blocked"):
            usage_record(account=tenants.a, user=tenants.alice, feature="service", model="m", provider="p",
                         provider_cost="50", credits="0", status=status)  # fmt: skip
    # then no alert and no shut-off
    assert spend_check(account=tenants.a) == []
    assert mail.outbox == []
    ai_call_guard(account=tenants.a)


def test_spend_alerts_skip_owners_who_turned_notifications_off(tenants, django_capture_on_commit_callbacks):
    # given A has three owners: alice turned notifications off, dave left them on, erin has no preferences
    UserPreferencesFactory(user=tenants.alice, email_notifications=False)
    dave = UserFactory(email="dave@example.com")
    UserPreferencesFactory(user=dave, email_notifications=True)
    MembershipFactory(account=tenants.a, user=dave, role=Role.OWNER)
    MembershipFactory(account=tenants.a, user=UserFactory(email="erin@example.com"), role=Role.OWNER)
    cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="10")

    # when spending passes the daily limit
    with django_capture_on_commit_callbacks(execute=True):
        _spend(tenants, "11")

    # then the alert went to dave and erin only
    assert [m.to for m in mail.outbox] == [["dave@example.com", "erin@example.com"]]
    assert "over its daily limit of 10.0000" in mail.outbox[0].body
