"""Group commit of concurrent debits (billing.services.debit_batch): a batch keeps
each debit's own answer, in arrival order, and one bad debit fails nobody else."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError

from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.ids import uuid7
from billing.models import AuditLog, CreditTransaction, Wallet
from billing.services import debit_batch
from billing.services.debit_batch import Debit
from billing.services.ledger import wallet_debit
from tests.billing.factories import fund
from tests.billing.test_ledger_concurrency import _ledger, _race

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def _debit(account, amount: str, id=None) -> Debit:
    return Debit(
        id=id or uuid7(), account_id=account.id, delta=-D(amount), type="use", actor_id=None,
        reference_type="", reference_id="", description="",
    )  # fmt: skip


def test_a_batch_takes_debits_in_order_while_each_wallet_affords_them(tenants):
    # given 10 credits on A and 5 on B
    fund(tenants.a, "10")
    fund(tenants.b, "5")
    batch = [_debit(tenants.a, "4"), _debit(tenants.b, "5"), _debit(tenants.a, "4"), _debit(tenants.a, "4"),
             _debit(tenants.a, "1")]  # fmt: skip
    audits_before = _wallet_updates(tenants)
    # when they go as one statement
    debit_batch._send(batch)
    # then the third debit of A is refused and the one after it still fits
    assert [d.row[0] if d.row else None for d in batch] == [D("6"), D("0"), D("2"), None, D("1")]
    assert all(d.error is None for d in batch)
    assert _ledger(tenants.a)[:2] == (D("1.0000"), D("1.0000"))
    assert _ledger(tenants.b)[:2] == (D("0.0000"), D("0.0000"))
    # and each wallet moved once, audited once
    assert _wallet_updates(tenants) == audits_before + 2


def _wallet_updates(tenants) -> int:
    with rls_bypass("test: read the audit"):
        ids = Wallet.objects.filter(account__in=[tenants.a, tenants.b]).values_list("id", flat=True)
        wallets = [str(w) for w in ids]
        return AuditLog.objects.filter(table_name="billing_wallet", operation="UPDATE", row_id__in=wallets).count()


def test_a_batch_that_fails_as_a_whole_answers_each_debit_alone(tenants):
    # given a batch in which two debits carry the same id (the second cannot be written)
    fund(tenants.a, "10")
    same = uuid7()
    batch = [_debit(tenants.a, "1"), _debit(tenants.a, "2", id=same), _debit(tenants.a, "3", id=same)]
    # when it is sent
    debit_batch._send(batch)
    # then the statement rolled back, and alone the first two went through and the third failed
    assert [d.row[0] if d.row else None for d in batch] == [D("9"), D("7"), None]
    assert isinstance(batch[2].error, IntegrityError)
    assert _ledger(tenants.a)[:2] == (D("7.0000"), D("7.0000"))


def test_concurrent_debits_share_statements_and_keep_every_answer(tenants, monkeypatch):
    # given 1000 credits and a record of the batch sizes the combiner sends
    account = tenants.a
    fund(account, "1000")
    sizes: list[int] = []
    real_send = debit_batch._send
    monkeypatch.setattr(debit_batch, "_send", lambda batch: (sizes.append(len(batch)), real_send(batch)))
    # when 40 threads debit 2 each at once, a few times
    for _ in range(3):
        outcomes = _race(40, lambda i: wallet_debit(account=account, amount="2"))
        assert all(isinstance(o, CreditTransaction) for o in outcomes), outcomes[:3]
    # then debits were combined, none was lost, and each saw its own step of the balance
    assert max(sizes) > 1 and sum(sizes) == 120
    balance, total, afters = _ledger(account)
    assert balance == total == D("760.0000")
    assert sorted(afters) == [D(760 + 2 * k) for k in range(120)] + [D("1000")]
    with account_context(account.id):
        assert CreditTransaction.objects.filter(account=account, type="use").count() == 120
