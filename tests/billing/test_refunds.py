"""Refunds give back (part of) a charge: never more than was charged, and only
charges are refundable (not refunds, not bonuses or top-ups)."""

from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InvalidInput, NotFound
from billing.models import CreditTransaction, Wallet
from billing.services.ledger import PaymentInfo, wallet_adjust, wallet_credit, wallet_refund
from billing.services.reservations import reservation_hold, reservation_settle
from tests.billing.factories import fund, spend

pytestmark = pytest.mark.django_db

D = Decimal


def _balance(account) -> Decimal:
    with account_context(account.id):
        return Wallet.objects.get(account=account).balance


def _rows(account) -> int:
    with account_context(account.id):
        return CreditTransaction.objects.filter(account=account).count()


def test_full_refund_gives_back_the_charge_and_links_it(tenants):
    # given
    fund(tenants.a, "100")
    charge = spend(tenants.a, "30")
    # when
    refund = wallet_refund(account=tenants.a, transaction_id=charge.id, actor=tenants.alice, reason="bad answer")
    # then
    assert (refund.type, refund.amount, refund.balance_after) == ("refund", D("30.0000"), D("100.0000"))
    assert (refund.refund_of_id, refund.reference_type, refund.reference_id) == (
        charge.id, "credit_transaction", str(charge.id),
    )  # fmt: skip
    assert (refund.actor_id, refund.description) == (tenants.alice.id, "bad answer")
    assert _balance(tenants.a) == D("100.0000")
    with account_context(tenants.a.id):
        assert list(CreditTransaction.objects.get(pk=charge.id).refunds.values_list("id", flat=True)) == [refund.id]


def test_partial_refunds_add_up_to_the_charge_and_no_further(tenants):
    # given
    fund(tenants.a, "100")
    charge = spend(tenants.a, "10")
    # when
    first = wallet_refund(account=tenants.a, transaction_id=charge.id, amount="3.3333")
    second = wallet_refund(account=tenants.a, transaction_id=charge.id, amount="6")
    rest = wallet_refund(account=tenants.a, transaction_id=charge.id)  # no amount: whatever is left
    # then
    assert [(r.amount, r.balance_after) for r in (first, second, rest)] == [
        (D("3.3333"), D("93.3333")), (D("6.0000"), D("99.3333")), (D("0.6667"), D("100.0000")),
    ]  # fmt: skip
    with pytest.raises(Conflict) as err:
        wallet_refund(account=tenants.a, transaction_id=charge.id, amount="0.0001")
    assert (err.value.status, err.value.code, err.value.extra) == (
        409,
        "refund_exceeds_charge",
        {"refundable": "0.0000"},
    )
    with pytest.raises(Conflict):
        wallet_refund(account=tenants.a, transaction_id=charge.id)
    assert _balance(tenants.a) == D("100.0000")
    assert _rows(tenants.a) == 5


def test_a_refund_above_what_is_left_is_refused_and_writes_nothing(tenants):
    fund(tenants.a, "100")
    charge = spend(tenants.a, "10")
    wallet_refund(account=tenants.a, transaction_id=charge.id, amount="4")
    with pytest.raises(Conflict) as err:
        wallet_refund(account=tenants.a, transaction_id=charge.id, amount="6.0001", idempotency_key="r-too-much")
    assert err.value.extra == {"refundable": "6.0000"}
    assert (_balance(tenants.a), _rows(tenants.a)) == (D("94.0000"), 3)
    # the key was not spent on the refused request
    assert wallet_refund(
        account=tenants.a, transaction_id=charge.id, amount="6", idempotency_key="r-too-much"
    ).amount == D("6.0000")


def test_a_refund_cannot_be_refunded(tenants):
    fund(tenants.a, "100")
    charge = spend(tenants.a, "10")
    refund = wallet_refund(account=tenants.a, transaction_id=charge.id, amount="5")
    with pytest.raises(Conflict) as err:
        wallet_refund(account=tenants.a, transaction_id=refund.id, amount="1")
    assert (err.value.status, err.value.code) == (409, "not_refundable")
    assert (_balance(tenants.a), _rows(tenants.a)) == (D("95.0000"), 3)


@pytest.mark.parametrize("make", ["bonus", "grant", "top_up", "adjustment"])
def test_credits_are_not_refundable(tenants, make):
    payment = PaymentInfo("card", "dev", "dev_pi_refund", D("1.00"), "USD")
    credit = {
        "bonus": lambda: fund(tenants.a, "10"),
        "grant": lambda: wallet_credit(account=tenants.a, amount="10", type="grant"),
        "top_up": lambda: wallet_credit(account=tenants.a, amount="10", type="top_up", payment=payment),
        "adjustment": lambda: wallet_adjust(account=tenants.a, amount="10", actor=tenants.alice, reason="r"),
    }[make]()
    with pytest.raises(Conflict) as err:
        wallet_refund(account=tenants.a, transaction_id=credit.id)
    assert err.value.code == "not_refundable"
    assert (_balance(tenants.a), _rows(tenants.a)) == (D("10.0000"), 1)


@pytest.mark.parametrize("type_", ["chat_burn", "fine"])
def test_every_charge_type_is_refundable(tenants, type_):
    fund(tenants.a, "10")
    charge = spend(tenants.a, "4", type=type_)
    assert wallet_refund(account=tenants.a, transaction_id=charge.id).amount == D("4.0000")


def test_a_settled_reservation_charge_is_refundable(tenants):
    fund(tenants.a, "10")
    held = reservation_hold(account=tenants.a, amount="5")
    charge = reservation_settle(account=tenants.a, reservation_id=held.id, actual="2.5")
    refund = wallet_refund(account=tenants.a, transaction_id=charge.id)
    assert (refund.amount, refund.balance_after) == (D("2.5000"), D("10.0000"))


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "NaN", "1.00001"])
def test_bad_refund_amounts_are_invalid_input_and_write_nothing(tenants, amount):
    fund(tenants.a, "10")
    charge = spend(tenants.a, "5")
    with pytest.raises(InvalidInput):
        wallet_refund(account=tenants.a, transaction_id=charge.id, amount=amount)
    assert (_balance(tenants.a), _rows(tenants.a)) == (D("5.0000"), 2)


def test_a_charge_of_another_account_is_not_found(tenants):
    fund(tenants.a, "10")
    fund(tenants.b, "10")
    charge = spend(tenants.a, "5")
    with pytest.raises(NotFound):
        wallet_refund(account=tenants.b, transaction_id=charge.id)
    assert (_balance(tenants.a), _balance(tenants.b)) == (D("5.0000"), D("10.0000"))
    assert (_rows(tenants.a), _rows(tenants.b)) == (2, 1)


def test_refund_with_idempotency_key_refunds_once(tenants):
    fund(tenants.a, "10")
    charge = spend(tenants.a, "5")
    first = wallet_refund(account=tenants.a, transaction_id=charge.id, amount="2", idempotency_key="rf-1")
    again = wallet_refund(account=tenants.a, transaction_id=charge.id, amount="2", idempotency_key="rf-1")
    assert (again.id, again.balance_after) == (first.id, D("7.0000"))
    with pytest.raises(Conflict) as err:
        wallet_refund(account=tenants.a, transaction_id=charge.id, amount="3", idempotency_key="rf-1")
    assert err.value.code == "idempotency_key_reused"
    assert (_balance(tenants.a), _rows(tenants.a)) == (D("7.0000"), 3)
