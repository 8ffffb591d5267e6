"""Idempotency keys (Stripe's semantics): a retry with the same key and the same
parameters gets the first result back and charges once; the same key with other
parameters is a 409; keys belong to one account and expire after the TTL."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InsufficientCredits, InvalidInput
from billing.models import CreditTransaction, IdempotencyRecord, Wallet
from billing.services.ledger import Reference, idempotency_purge, wallet_credit, wallet_debit
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db

D = Decimal


def _state(account) -> tuple[Decimal, int, int]:
    """(balance, ledger rows, idempotency records)"""
    with account_context(account.id):
        return (
            Wallet.objects.get(account=account).balance,
            CreditTransaction.objects.filter(account=account).count(),
            IdempotencyRecord.objects.filter(account=account).count(),
        )


def test_same_key_and_params_returns_the_first_transaction_and_charges_once(tenants):
    # given
    fund(tenants.a, "100")
    first = wallet_debit(account=tenants.a, amount="7", reference=Reference("chat", "c1"), idempotency_key="k1")
    # when the request is retried, even after other activity moved the balance
    wallet_debit(account=tenants.a, amount="1")
    again = wallet_debit(account=tenants.a, amount="7.0000", reference=Reference("chat", "c1"), idempotency_key="k1")
    # then
    assert (again.id, again.amount, again.balance_after) == (first.id, D("-7.0000"), D("93.0000"))
    assert _state(tenants.a) == (D("92.0000"), 3, 1)
    with account_context(tenants.a.id):
        assert CreditTransaction.objects.filter(idempotency_key="k1").count() == 1
        assert IdempotencyRecord.objects.get(key="k1").transaction_id == first.id


@pytest.mark.parametrize(
    "changed",
    [
        {"amount": "8"},
        {"type": "chat_burn"},
        {"reference": Reference("chat", "c2")},
        {"reference": Reference("image", "c1")},
    ],
    ids=["amount", "type", "reference-id", "reference-type"],
)
def test_same_key_with_different_params_is_a_conflict_and_writes_nothing(tenants, changed):
    # given
    fund(tenants.a, "100")
    params = {"amount": "7", "type": "use", "reference": Reference("chat", "c1")}
    wallet_debit(account=tenants.a, idempotency_key="k1", **params)
    before = _state(tenants.a)
    # when / then
    with pytest.raises(Conflict) as err:
        wallet_debit(account=tenants.a, idempotency_key="k1", **{**params, **changed})
    assert (err.value.status, err.value.code) == (409, "idempotency_key_reused")
    assert _state(tenants.a) == before


def test_a_debit_key_reused_for_a_credit_is_a_conflict(tenants):
    fund(tenants.a, "100")
    wallet_debit(account=tenants.a, amount="5", idempotency_key="k1")
    with pytest.raises(Conflict) as err:
        wallet_credit(account=tenants.a, amount="5", type="bonus", idempotency_key="k1")
    assert err.value.code == "idempotency_key_reused"
    assert _state(tenants.a) == (D("95.0000"), 2, 1)


def test_credit_with_the_same_key_credits_once(tenants):
    first = fund(tenants.a, "10", idempotency_key="grant-1")
    again = fund(tenants.a, "10", idempotency_key="grant-1")
    assert (again.id, again.balance_after) == (first.id, D("10.0000"))
    assert _state(tenants.a) == (D("10.0000"), 1, 1)


def test_keys_are_per_account(tenants):
    # given
    fund(tenants.a, "100")
    fund(tenants.b, "100")
    # when both accounts use the same key, with different parameters
    in_a = wallet_debit(account=tenants.a, amount="5", idempotency_key="shared")
    in_b = wallet_debit(account=tenants.b, amount="9", idempotency_key="shared")
    # then each charged once, independently
    assert in_a.id != in_b.id
    assert (in_a.balance_after, in_b.balance_after) == (D("95.0000"), D("91.0000"))
    assert _state(tenants.a) == (D("95.0000"), 2, 1)
    assert _state(tenants.b) == (D("91.0000"), 2, 1)
    # and a retry in each returns its own first result
    assert wallet_debit(account=tenants.b, amount="9", idempotency_key="shared").id == in_b.id
    assert wallet_debit(account=tenants.a, amount="5", idempotency_key="shared").id == in_a.id


def test_a_refused_request_does_not_spend_its_key(tenants):
    # given a debit refused for lack of credits
    fund(tenants.a, "5")
    with pytest.raises(InsufficientCredits):
        wallet_debit(account=tenants.a, amount="10", idempotency_key="k1")
    assert _state(tenants.a) == (D("5.0000"), 1, 0)
    # when the user tops up and retries with the same key; then it charges
    fund(tenants.a, "5")
    tx = wallet_debit(account=tenants.a, amount="10", idempotency_key="k1")
    assert tx.balance_after == D("0.0000")
    assert _state(tenants.a) == (D("0.0000"), 3, 1)


@pytest.mark.parametrize("key", ["   ", "x" * 256])
def test_malformed_keys_are_invalid_input(tenants, key):
    fund(tenants.a, "100")
    before = _state(tenants.a)
    with pytest.raises(InvalidInput) as err:
        wallet_debit(account=tenants.a, amount="1", idempotency_key=key)
    assert set(err.value.fields) == {"idempotency_key"}
    assert _state(tenants.a) == before


def test_a_key_of_255_characters_is_accepted(tenants):
    fund(tenants.a, "100")
    key = "k" * 255
    assert wallet_debit(account=tenants.a, amount="1", idempotency_key=key).id == (
        wallet_debit(account=tenants.a, amount="1", idempotency_key=key).id
    )


def _age(account, key: str, hours: float) -> None:
    with account_context(account.id):
        IdempotencyRecord.objects.filter(key=key).update(created_at=timezone.now() - timedelta(hours=hours))


def test_purge_forgets_keys_older_than_the_ttl_in_every_account(tenants, settings):
    # given
    settings.IDEMPOTENCY_TTL_HOURS = 48
    fund(tenants.a, "100")
    fund(tenants.b, "100")
    wallet_debit(account=tenants.a, amount="1", idempotency_key="old")
    wallet_debit(account=tenants.a, amount="1", idempotency_key="young")
    wallet_debit(account=tenants.b, amount="1", idempotency_key="old")
    _age(tenants.a, "old", 48.1)
    _age(tenants.a, "young", 47.9)
    _age(tenants.b, "old", 49)
    # when
    purged = idempotency_purge()
    # then
    assert purged == 2
    with account_context(tenants.a.id):
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]
    with account_context(tenants.b.id):
        assert not IdempotencyRecord.objects.exists()
    # the ledger is untouched, and a forgotten key is a new request again
    assert _state(tenants.a) == (D("98.0000"), 3, 1)
    again = wallet_debit(account=tenants.a, amount="2", idempotency_key="old")
    assert again.balance_after == D("96.0000")
    # a kept key still answers with its first result
    with pytest.raises(Conflict):
        wallet_debit(account=tenants.a, amount="2", idempotency_key="young")


def test_keys_are_kept_at_least_a_day_by_default(settings):
    assert settings.IDEMPOTENCY_TTL_HOURS >= 24
