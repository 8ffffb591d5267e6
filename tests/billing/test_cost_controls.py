"""Spend alerts reach owners once per period; the shut-off stops AI calls until an owner lifts it."""

from decimal import Decimal

import pytest
from django.core import mail

from aiplatform.errors import Forbidden, InvalidInput
from billing.services.controls import (
    AiShutoff,
    ai_call_guard,
    cost_control_update,
    shutoff_engage,
    shutoff_lift,
    spend_check,
)
from billing.services.usage import usage_record

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


def test_shutoff_of_one_account_does_not_touch_another(tenants):
    shutoff_engage(account=tenants.a, actor=tenants.alice_membership, reason="test")
    ai_call_guard(account=tenants.b)


def test_limits_are_validated(tenants):
    with pytest.raises(InvalidInput):
        cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="-5")
    with pytest.raises(InvalidInput):
        cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="50", monthly_limit="10")
    control = cost_control_update(account=tenants.a, actor=tenants.alice_membership, monthly_limit="100")
    assert (control.daily_limit, control.monthly_limit) == (None, Decimal("100.0000"))
