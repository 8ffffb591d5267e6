"""The ledger under real concurrency: many connections debit one wallet at the
same moment, on the real database with real commits.

Each thread has its own Django connection (connections are per thread) and
closes it when done; a barrier releases all of them at once after each has
connected, so the debits really race for the wallet row."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InsufficientCredits
from billing.models import CreditTransaction, IdempotencyRecord, Wallet
from billing.services.ledger import Reference, wallet_debit, wallet_refund
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
THREADS = 50
ROUNDS = 5


def _race(n: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `n` threads released together; return results or exceptions, in order."""
    barrier = threading.Barrier(n, timeout=60)

    def run(i: int):
        try:
            connection.ensure_connection()
            barrier.wait()
            try:
                return work(i)
            except Exception as exc:  # noqa: BLE001 (the caller inspects every outcome)
                return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def enough_connections():
    with connection.cursor() as cur:
        cur.execute("SHOW max_connections")
        limit = int(cur.fetchone()[0])
        cur.execute("SELECT count(*) FROM pg_stat_activity")
        used = cur.fetchone()[0]
    assert limit - used > THREADS + 5, f"the test needs {THREADS} connections; max_connections={limit}, in use {used}"


def _ledger(account) -> tuple[Decimal, Decimal, list[Decimal]]:
    """(wallet balance, sum of ledger amounts, every balance_after)"""
    with account_context(account.id):
        balance = Wallet.objects.get(account=account).balance
        rows = list(CreditTransaction.objects.filter(account=account).values_list("amount", "balance_after"))
    return balance, sum((a for a, _ in rows), D("0")), [b for _, b in rows]


def test_fifty_connections_debit_three_from_one_hundred(tenants, enough_connections):
    account = tenants.a
    fund(account, "100")
    for round_ in range(ROUNDS):
        # given a balance of 100 (topped up again after each round)
        if round_:
            fund(account, "99")
        # when 50 connections each debit 3 at once
        outcomes = _race(
            THREADS,
            lambda i, r=round_: wallet_debit(account=account, amount="3", reference=Reference("race", f"{r}-{i}")),
        )
        # then exactly 33 succeed and 17 are told they lack credits
        ok = [o for o in outcomes if isinstance(o, CreditTransaction)]
        short = [o for o in outcomes if isinstance(o, InsufficientCredits)]
        assert (len(ok), len(short)) == (33, 17), [o for o in outcomes if not isinstance(o, CreditTransaction)][:3]
        # no lost update: each success saw its own step of 100 -> 1
        assert sorted(t.balance_after for t in ok) == [D(100 - 3 * k) for k in range(33, 0, -1)]
        assert all(e.status == 402 and D(e.extra["balance"]) < 3 and e.extra["price"] == "3.0000" for e in short)
        balance, total, afters = _ledger(account)
        assert balance == total == D("1.0000"), f"round {round_}"
        assert min(afters) >= 0
    balance, total, afters = _ledger(account)
    assert len(afters) == 1 + (ROUNDS - 1) + ROUNDS * 33


def test_the_same_idempotency_key_sent_ten_times_at_once_charges_once(tenants, enough_connections):
    # given
    account = tenants.a
    fund(account, "100")
    # when
    outcomes = _race(
        10, lambda i: wallet_debit(account=account, amount="7", reference=Reference("chat", "c1"), idempotency_key="k")
    )
    # then ten identical answers and one ledger row
    assert all(isinstance(o, CreditTransaction) for o in outcomes), outcomes
    assert {(o.id, o.amount, o.balance_after) for o in outcomes} == {(outcomes[0].id, D("-7.0000"), D("93.0000"))}
    balance, total, afters = _ledger(account)
    assert (balance, total, len(afters)) == (D("93.0000"), D("93.0000"), 2)
    with account_context(account.id):
        assert CreditTransaction.objects.filter(idempotency_key="k").count() == 1
        assert IdempotencyRecord.objects.get(key="k").transaction_id == outcomes[0].id


def test_debits_on_many_wallets_at_once_do_not_mix(tenants, enough_connections):
    # given two accounts: the same race on both
    fund(tenants.a, "30")
    fund(tenants.b, "30")
    accounts = [tenants.a, tenants.b]
    # when 20 connections alternate between them, 2 credits each
    outcomes = _race(20, lambda i: wallet_debit(account=accounts[i % 2], amount="2"))
    # then every debit succeeded on its own wallet
    assert all(isinstance(o, CreditTransaction) for o in outcomes), outcomes
    for account in accounts:
        assert _ledger(account)[:2] == (D("10.0000"), D("10.0000"))


def test_the_same_key_with_different_amounts_at_once_charges_one_and_refuses_the_rest(tenants, enough_connections):
    # given
    account = tenants.a
    fund(account, "100")
    # when ten requests share a key but not their amount
    outcomes = _race(10, lambda i: wallet_debit(account=account, amount=str(i + 1), idempotency_key="k"))
    # then one charged, nine were told the key was reused
    ok = [o for o in outcomes if isinstance(o, CreditTransaction)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(ok), len(refused)) == (1, 9), outcomes
    assert {e.code for e in refused} == {"idempotency_key_reused"}
    balance, total, afters = _ledger(account)
    assert (balance, total, len(afters)) == (D("100") + ok[0].amount, D("100") + ok[0].amount, 2)


def test_concurrent_partial_refunds_never_exceed_the_charge(tenants, enough_connections):
    # given a charge of 5
    account = tenants.a
    fund(account, "100")
    charge = wallet_debit(account=account, amount="5")
    # when twelve refunds of 0.5 race for it
    outcomes = _race(12, lambda i: wallet_refund(account=account, transaction_id=charge.id, amount="0.5"))
    # then exactly ten went through
    ok = [o for o in outcomes if isinstance(o, CreditTransaction)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(ok), len(refused)) == (10, 2), outcomes
    assert {e.code for e in refused} == {"refund_exceeds_charge"}
    assert sorted(t.balance_after for t in ok) == [D("95.5") + D("0.5") * k for k in range(10)]
    assert _ledger(account)[:2] == (D("100.0000"), D("100.0000"))
