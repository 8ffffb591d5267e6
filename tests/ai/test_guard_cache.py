"""The shut-off check is remembered briefly for accounts that passed, never for
accounts that are shut off, and forgotten at once when this process changes it."""

from __future__ import annotations

import time

import pytest

from aiplatform.ai import gateway
from aiplatform.ai.types import ChatMessage
from billing.models import CostControl
from billing.services.controls import AiShutoff, cost_control_for, shutoff_engage, shutoff_lift

pytestmark = pytest.mark.django_db

HI = [ChatMessage("user", "hi")]


def _call(account):
    return gateway.complete(account=account, model="test-model", messages=HI, feature="chat")


def test_a_shut_off_engaged_here_stops_the_next_call_at_once(tenants, chat_model, model_server):
    _call(tenants.a)  # the account passed and is remembered
    shutoff_engage(account=tenants.a, actor=tenants.alice_membership, reason="runaway costs")
    with pytest.raises(AiShutoff):
        _call(tenants.a)
    assert len(model_server.requests) == 1


def test_lifting_a_shut_off_works_at_once(tenants, chat_model, model_server):
    shutoff_engage(account=tenants.a, actor=tenants.alice_membership, reason="runaway costs")
    with pytest.raises(AiShutoff):
        _call(tenants.a)
    shutoff_lift(account=tenants.a, actor=tenants.alice_membership)
    assert _call(tenants.a).text == "Echo: hi"


def test_a_shut_off_engaged_by_another_process_stops_calls_within_the_cache_time(
    tenants, chat_model, model_server, settings
):
    # given a pass remembered for 0.3 s
    settings.AI_GUARD_CACHE_SECONDS = 0.3
    cost_control_for(tenants.a)
    _call(tenants.a)
    # when another process engages the shut-off (no signal reaches this one)
    from accounts.tenancy.context import account_context

    with account_context(tenants.a.id):
        CostControl.objects.filter(account=tenants.a).update(shutoff_active=True, shutoff_reason="elsewhere")
    # then calls pass until the pass expires, and are refused after
    _call(tenants.a)
    time.sleep(0.35)
    with pytest.raises(AiShutoff):
        _call(tenants.a)
    # and another account was never affected
    assert _call(tenants.b).text == "Echo: hi"
