"""Fixtures of the gateway tests: a funded account with its owner, fast retries."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Account, User
from billing.models import CreditTransaction, UsageRecord
from tests.billing.factories import fund


@dataclass
class Payer:
    account: Account
    user: User


@pytest.fixture
def payer(tenants) -> Payer:
    """Account A (alice owns it) with 100 credits."""
    fund(tenants.a, "100")
    return Payer(tenants.a, tenants.alice)


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    """Retries keep their shape (count, Retry-After) but not the production waits."""
    settings.AI_RETRY_BACKOFF = 0.01
    settings.AI_MAX_RETRIES = 2


def usage_rows(account) -> list[UsageRecord]:
    from accounts.tenancy.context import account_context

    with account_context(account.id):
        return list(UsageRecord.objects.filter(account=account).order_by("created_at"))


def use_rows(account) -> list[CreditTransaction]:
    from accounts.tenancy.context import account_context

    with account_context(account.id):
        return list(CreditTransaction.objects.filter(account=account, type="use").order_by("created_at"))


def balance(account):
    from billing.services.ledger import wallet_for

    return wallet_for(account).balance
