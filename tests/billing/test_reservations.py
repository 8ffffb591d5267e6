"""Reservations: a hold lowers what can be spent, not the balance; settling
charges the actual price and lifts the hold; a hold never outlives its work."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InsufficientCredits, InvalidInput, NotFound
from billing.models import CreditTransaction, Reservation, Wallet
from billing.services.ledger import Reference
from billing.services.reservations import (
    reservation_hold,
    reservation_release,
    reservation_settle,
    reservations_expire,
)
from tests.billing.factories import fund, spend

pytestmark = pytest.mark.django_db

D = Decimal


def _wallet(account) -> tuple[Decimal, Decimal, Decimal]:
    """(balance, reserved, spendable)"""
    with account_context(account.id):
        w = Wallet.objects.get(account=account)
    return w.balance, w.reserved, w.available


def _reservation(account, reservation_id) -> Reservation:
    with account_context(account.id):
        return Reservation.objects.get(pk=reservation_id)


def _ledger(account) -> list[tuple[str, Decimal, Decimal]]:
    with account_context(account.id):
        return sorted(CreditTransaction.objects.filter(account=account).values_list("type", "amount", "balance_after"))


def test_hold_lowers_spendable_but_not_balance_and_writes_no_ledger_row(tenants):
    # given
    fund(tenants.a, "100")
    # when
    held = reservation_hold(
        account=tenants.a, amount="30", type="chat_burn", actor=tenants.alice, reference=Reference("chat", "c1")
    )
    # then
    assert _wallet(tenants.a) == (D("100.0000"), D("30.0000"), D("70.0000"))
    stored = _reservation(tenants.a, held.id)
    assert (stored.status, stored.amount, stored.type, stored.reference_id) == ("held", D("30.0000"), "chat_burn", "c1")
    assert timezone.now() + timedelta(minutes=14) < stored.expires_at <= timezone.now() + timedelta(minutes=15)
    assert _ledger(tenants.a) == [("bonus", D("100.0000"), D("100.0000"))]


def test_hold_beyond_spendable_is_insufficient_and_writes_nothing(tenants):
    fund(tenants.a, "10")
    reservation_hold(account=tenants.a, amount="6")
    with pytest.raises(InsufficientCredits) as err:
        reservation_hold(account=tenants.a, amount="4.0001")
    assert err.value.extra == {"balance": "4.0000", "price": "4.0001"}
    assert _wallet(tenants.a) == (D("10.0000"), D("6.0000"), D("4.0000"))
    with account_context(tenants.a.id):
        assert Reservation.objects.count() == 1


def test_settle_charges_the_actual_price_and_releases_the_rest(tenants):
    # given
    fund(tenants.a, "100")
    held = reservation_hold(account=tenants.a, amount="30", type="chat_burn", reference=Reference("chat", "c1"))
    # when
    tx = reservation_settle(account=tenants.a, reservation_id=held.id, actual="12.3456", description="stream")
    # then
    assert (tx.type, tx.amount, tx.balance_after, tx.reference_id) == ("chat_burn", D("-12.3456"), D("87.6544"), "c1")
    assert _wallet(tenants.a) == (D("87.6544"), D("0.0000"), D("87.6544"))
    stored = _reservation(tenants.a, held.id)
    assert (stored.status, stored.transaction_id) == ("settled", tx.id)
    assert stored.closed_at is not None
    assert _ledger(tenants.a) == [("bonus", D("100.0000"), D("100.0000")), ("chat_burn", D("-12.3456"), D("87.6544"))]


def test_settle_above_the_estimate_charges_in_full_when_the_wallet_can_pay(tenants):
    fund(tenants.a, "100")
    held = reservation_hold(account=tenants.a, amount="10")
    tx = reservation_settle(account=tenants.a, reservation_id=held.id, actual="25")
    assert (tx.amount, tx.balance_after) == (D("-25.0000"), D("75.0000"))
    assert _wallet(tenants.a) == (D("75.0000"), D("0.0000"), D("75.0000"))


def test_settle_above_the_estimate_charges_what_the_wallet_has_and_keeps_other_holds(tenants):
    # given 20 credits: a hold of 10 for this work, 4 held by other work, 2 spent meanwhile
    fund(tenants.a, "20")
    held = reservation_hold(account=tenants.a, amount="10")
    other = reservation_hold(account=tenants.a, amount="4")
    spend(tenants.a, "2")
    # when the work cost 50
    tx = reservation_settle(account=tenants.a, reservation_id=held.id, actual="50")
    # then it is charged the 14 not held by the other work, and never below zero
    assert (tx.amount, tx.balance_after) == (D("-14.0000"), D("4.0000"))
    assert "50.0000 due, 14.0000 available" in tx.description
    assert _wallet(tenants.a) == (D("4.0000"), D("4.0000"), D("0.0000"))
    assert _reservation(tenants.a, other.id).status == "held"


def test_a_hold_guarantees_its_estimate_even_when_nothing_else_is_spendable(tenants):
    # given the whole balance is held
    fund(tenants.a, "10")
    held = reservation_hold(account=tenants.a, amount="10")
    with pytest.raises(InsufficientCredits):
        spend(tenants.a, "0.0001")
    # when / then settling the estimate itself succeeds
    tx = reservation_settle(account=tenants.a, reservation_id=held.id, actual="10")
    assert (tx.amount, tx.balance_after) == (D("-10.0000"), D("0.0000"))
    assert _wallet(tenants.a) == (D("0.0000"), D("0.0000"), D("0.0000"))


@pytest.mark.parametrize("actual", ["0", 0, "0.0000"])
def test_settle_zero_charges_nothing_and_lifts_the_hold(tenants, actual):
    fund(tenants.a, "50")
    held = reservation_hold(account=tenants.a, amount="20")
    assert reservation_settle(account=tenants.a, reservation_id=held.id, actual=actual) is None
    assert _wallet(tenants.a) == (D("50.0000"), D("0.0000"), D("50.0000"))
    stored = _reservation(tenants.a, held.id)
    assert (stored.status, stored.transaction_id) == ("settled", None)
    assert _ledger(tenants.a) == [("bonus", D("50.0000"), D("50.0000"))]


def test_release_lifts_the_hold_and_charges_nothing(tenants):
    fund(tenants.a, "50")
    held = reservation_hold(account=tenants.a, amount="20")
    released = reservation_release(account=tenants.a, reservation_id=held.id)
    assert released.status == "released"
    assert _wallet(tenants.a) == (D("50.0000"), D("0.0000"), D("50.0000"))
    assert _reservation(tenants.a, held.id).status == "released"
    assert _ledger(tenants.a) == [("bonus", D("50.0000"), D("50.0000"))]


@pytest.mark.parametrize(
    "first,second",
    [
        ("settle", "settle"),
        ("settle", "release"),
        ("release", "settle"),
        ("release", "release"),
    ],
)
def test_a_closed_reservation_cannot_be_settled_or_released_again(tenants, first, second):
    # given
    fund(tenants.a, "50")
    held = reservation_hold(account=tenants.a, amount="20")
    close = {
        "settle": lambda: reservation_settle(account=tenants.a, reservation_id=held.id, actual="5"),
        "release": lambda: reservation_release(account=tenants.a, reservation_id=held.id),
    }
    close[first]()
    after_first = (_wallet(tenants.a), _ledger(tenants.a))
    # when / then
    with pytest.raises(Conflict) as err:
        close[second]()
    assert (err.value.status, err.value.code) == (409, "reservation_closed")
    assert (_wallet(tenants.a), _ledger(tenants.a)) == after_first


def test_a_reservation_of_another_account_is_not_found(tenants):
    fund(tenants.a, "50")
    fund(tenants.b, "50")
    held = reservation_hold(account=tenants.a, amount="20")
    with pytest.raises(NotFound):
        reservation_settle(account=tenants.b, reservation_id=held.id, actual="5")
    with pytest.raises(NotFound):
        reservation_release(account=tenants.b, reservation_id=held.id)
    assert _wallet(tenants.a) == (D("50.0000"), D("20.0000"), D("30.0000"))
    assert _wallet(tenants.b) == (D("50.0000"), D("0.0000"), D("50.0000"))


def test_bad_settle_amount_is_invalid_and_keeps_the_hold(tenants):
    fund(tenants.a, "50")
    held = reservation_hold(account=tenants.a, amount="20")
    for bad in ("-1", "abc", "NaN", "1.00001"):
        with pytest.raises(InvalidInput) as err:
            reservation_settle(account=tenants.a, reservation_id=held.id, actual=bad)
        assert set(err.value.fields) == {"actual"}
    assert _reservation(tenants.a, held.id).status == "held"
    assert _wallet(tenants.a) == (D("50.0000"), D("20.0000"), D("30.0000"))


def test_expiry_sweep_releases_only_overdue_holds_of_every_account(tenants):
    # given overdue holds in two accounts and one hold still in time
    fund(tenants.a, "50")
    fund(tenants.b, "50")
    overdue_a = reservation_hold(account=tenants.a, amount="10", ttl=timedelta(seconds=-1))
    overdue_b = reservation_hold(account=tenants.b, amount="7", ttl=timedelta(seconds=-1))
    current = reservation_hold(account=tenants.a, amount="5")
    settled = reservation_hold(account=tenants.a, amount="3", ttl=timedelta(seconds=-1))
    reservation_settle(account=tenants.a, reservation_id=settled.id, actual="1")
    # when
    released = reservations_expire()
    # then
    assert released == 2
    assert _reservation(tenants.a, overdue_a.id).status == "expired"
    assert _reservation(tenants.b, overdue_b.id).status == "expired"
    assert _reservation(tenants.a, current.id).status == "held"
    assert _reservation(tenants.a, settled.id).status == "settled"
    assert _wallet(tenants.a) == (D("49.0000"), D("5.0000"), D("44.0000"))
    assert _wallet(tenants.b) == (D("50.0000"), D("0.0000"), D("50.0000"))
    # and a second sweep finds nothing
    assert reservations_expire() == 0


def test_hold_with_idempotency_key_holds_once(tenants):
    fund(tenants.a, "50")
    first = reservation_hold(account=tenants.a, amount="20", idempotency_key="hold-1")
    again = reservation_hold(account=tenants.a, amount="20", idempotency_key="hold-1")
    assert again.id == first.id
    assert _wallet(tenants.a) == (D("50.0000"), D("20.0000"), D("30.0000"))
    with pytest.raises(Conflict) as err:
        reservation_hold(account=tenants.a, amount="21", idempotency_key="hold-1")
    assert err.value.code == "idempotency_key_reused"
