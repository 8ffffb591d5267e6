"""Seed 003 `api_usage_logs` logs every API request, 5xx included, with the tokens
and credits of the AI calls it made and the error it answered; each request counts
in the member's `api_calls_made` (seed 002 `user_usage`)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.tenancy.context import account_context
from billing.models import ApiRequestLog, UsageRecord, UserMonthlyUsage
from billing.services.ledger import wallet_for
from billing.services.usage import usage_record

pytestmark = pytest.mark.django_db

WALLET_API = "/api/v1/wallet/"


@pytest.fixture
def alice(tenants):
    client = Client(raise_request_exception=False)
    client.force_login(tenants.alice)
    return client


def _logs(account) -> list[tuple]:
    with account_context(account.id):
        return list(
            ApiRequestLog.objects.filter(account=account).order_by("created_at")
            .values_list("endpoint", "status_code", "tokens_used", "credits_cost", "error_message", "user_id")
        )  # fmt: skip


def _api_calls(account, user) -> int:
    with account_context(account.id):
        row = UserMonthlyUsage.objects.filter(account=account, user=user).first()
    return row.api_calls_made if row else 0


def _wallet_after_an_ai_call(account):
    """The wallet view, as if it had made one AI call of 120 tokens charged 3 credits."""
    usage_record(account=account, feature="chat", model="m1", provider="p", tokens_in=100, tokens_out=20,
                 credits="3", generation=True)  # fmt: skip
    return wallet_for(account)


def _ai_call_then_boom(account):
    _wallet_after_an_ai_call(account)
    raise RuntimeError("database on fire")


def test_a_request_is_logged_with_its_tokens_credits_and_counted_for_the_member(tenants, alice, monkeypatch):
    # given a wallet endpoint that makes an AI call
    monkeypatch.setattr("billing.api.wallet_for", _wallet_after_an_ai_call)

    # when alice calls it twice
    assert alice.get(WALLET_API).status_code == 200
    assert alice.get(WALLET_API).status_code == 200

    # then both requests are logged with their call's tokens and credits
    row = (WALLET_API, 200, 120, Decimal("3"), "", tenants.alice.id)
    assert _logs(tenants.a) == [row, row]
    # and alice made two API calls this month
    assert _api_calls(tenants.a, tenants.alice) == 2


def test_a_5xx_is_logged_with_its_error_and_no_credits_since_its_work_was_rolled_back(tenants, alice, monkeypatch):
    # given a wallet endpoint that makes an AI call and then fails unexpectedly
    monkeypatch.setattr("billing.api.wallet_for", _ai_call_then_boom)

    # when alice calls it
    response = alice.get(WALLET_API)

    # then the 500 is logged with the documented error, the tokens spent and 0 credits
    assert response.status_code == 500
    [(endpoint, status, tokens, credits, error, user_id)] = _logs(tenants.a)
    assert (endpoint, status, tokens, credits, user_id) == (WALLET_API, 500, 120, Decimal("0"), tenants.alice.id)
    assert error == "server_error: An unexpected error occurred; quote the request id when reporting it."
    # and the request's own work is gone (its usage record rolled back), its call counted
    with account_context(tenants.a.id):
        assert UsageRecord.objects.filter(account=tenants.a).count() == 0
    assert _api_calls(tenants.a, tenants.alice) == 1


def test_a_refused_request_is_logged_with_its_error(tenants, alice):
    # when alice asks for a usage window the API refuses
    response = alice.get("/api/v1/usage/?days=0")

    # then the 400 is logged with the error's code and message
    assert response.status_code == 400
    body = response.json()["error"]
    [(endpoint, status, tokens, credits, error, _)] = _logs(tenants.a)
    assert (endpoint, status, tokens, credits) == ("/api/v1/usage/", 400, 0, Decimal("0"))
    assert error == f"{body['code']}: {body['message']}"


def test_requests_without_an_account_are_not_logged(tenants):
    # when an anonymous client calls the API
    response = Client().get(WALLET_API)

    # then nothing is logged for any account
    assert response.status_code in (401, 403)
    assert _logs(tenants.a) == [] and _logs(tenants.b) == []
