"""Buying under real concurrency: eight requests of one account for the same
item at the same moment (real connections and commits) charge once, pay the
seller once, and the ledger still sums to the balances."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum

from accounts.tenancy.context import account_context
from billing.models import CreditTransaction, Wallet
from templates.models.library import LibraryPurchase
from templates.services import library as svc
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def _race(n, work):
    barrier = threading.Barrier(n, timeout=60)

    def run(i):
        try:
            connection.ensure_connection()
            barrier.wait()
            try:
                return work(i)
            except Exception as exc:  # noqa: BLE001 - the test inspects every outcome
                return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def _state(account):
    with account_context(account.id):
        balance = Wallet.objects.get(account=account).balance
        total = CreditTransaction.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]
    return balance, total


def test_concurrent_purchases_of_one_item_charge_once(tenants):
    # given
    row = svc.library_component_save(account=tenants.b, actor=tenants.carol_membership, data={"name": "Hero"})
    svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=row.pk,
                                visibility="marketplace", price="10")  # fmt: skip
    fund(tenants.a, "100")
    # when: half with one idempotency key, half without
    results = _race(THREADS, lambda i: svc.library_buy(account=tenants.a, actor=tenants.alice_membership,
                                                        component_id=row.pk,
                                                        idempotency_key="same" if i % 2 else None))  # fmt: skip
    # then
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert sum(1 for r in results if not r.replayed) == 1
    assert len({r.purchase.pk for r in results}) == 1
    assert _state(tenants.a) == (Decimal("90"), Decimal("90"))
    assert _state(tenants.b) == (Decimal("8"), Decimal("8"))  # 10 minus the 20% fee
    with account_context(tenants.a.id):
        assert LibraryPurchase.objects.filter(account=tenants.a).count() == 1
