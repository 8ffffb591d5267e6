"""The ledger service: every debit and credit moves the balance by exactly its
amount and writes one ledger row carrying the balance it produced; a refused
change writes nothing."""

from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from aiplatform.errors import InsufficientCredits, InvalidInput
from billing.models import AuditLog, CreditTransaction, IdempotencyRecord, Reservation, Wallet
from billing.services.ledger import PaymentInfo, Reference, wallet_adjust, wallet_credit, wallet_debit
from billing.services.reservations import reservation_hold
from tests.billing.factories import fund, spend

pytestmark = pytest.mark.django_db

D = Decimal


def _balance(account) -> Decimal:
    with account_context(account.id):
        return Wallet.objects.get(account=account).balance


def _ledger(account) -> list[tuple[str, Decimal, Decimal]]:
    """(type, amount, balance_after) of every row, sorted (not by time) for a stable comparison."""
    with account_context(account.id):
        return sorted(CreditTransaction.objects.filter(account=account).values_list("type", "amount", "balance_after"))


def _written(account) -> dict:
    """Everything a refused request must leave untouched."""
    with account_context(account.id):
        wallet = Wallet.objects.filter(account=account).values("balance", "reserved", "lifetime_credits").first()
        return {
            "wallet": wallet,
            "ledger": CreditTransaction.objects.filter(account=account).count(),
            "audit": AuditLog.objects.filter(account=account).count(),
            "keys": IdempotencyRecord.objects.filter(account=account).count(),
            "holds": Reservation.objects.filter(account=account).count(),
        }


def test_debit_moves_the_balance_and_writes_one_row_with_balance_after(tenants):
    # given
    fund(tenants.a, "100")
    # when
    tx = wallet_debit(
        account=tenants.a, amount="30.5", actor=tenants.alice, reference=Reference("chat_message", "m1"),
        description="one answer",
    )  # fmt: skip
    # then
    assert (tx.type, tx.amount, tx.balance_after) == ("use", D("-30.5000"), D("69.5000"))
    assert (tx.actor_id, tx.reference_type, tx.reference_id) == (tenants.alice.id, "chat_message", "m1")
    assert _balance(tenants.a) == D("69.5000")
    assert _ledger(tenants.a) == [("bonus", D("100.0000"), D("100.0000")), ("use", D("-30.5000"), D("69.5000"))]
    with account_context(tenants.a.id):
        stored = CreditTransaction.objects.get(pk=tx.pk)
    assert (stored.amount, stored.balance_after, stored.description) == (D("-30.5000"), D("69.5000"), "one answer")


def test_successive_debits_chain_their_balance_after(tenants):
    fund(tenants.a, "10")
    results = [wallet_debit(account=tenants.a, amount=a).balance_after for a in ("0.0001", "2.9999", "3", "4")]
    assert results == [D("9.9999"), D("7.0000"), D("4.0000"), D("0.0000")]
    assert _balance(tenants.a) == D("0")
    assert sum(a for _, a, _ in _ledger(tenants.a)) == D("0")


@pytest.mark.parametrize("type_", ["use", "chat_burn", "fine"])
def test_every_spending_type_is_a_negative_row(tenants, type_):
    fund(tenants.a, "5")
    tx = wallet_debit(account=tenants.a, amount="2", type=type_)
    assert (tx.type, tx.amount, tx.balance_after) == (type_, D("-2.0000"), D("3.0000"))


def test_spending_the_exact_balance_leaves_zero(tenants):
    fund(tenants.a, "7.25")
    tx = spend(tenants.a, "7.25")
    assert tx.balance_after == D("0.0000")
    assert _balance(tenants.a) == D("0.0000")


def test_insufficient_credits_is_402_with_balance_and_price_and_writes_nothing(tenants):
    # given
    fund(tenants.a, "10")
    before = _written(tenants.a)
    # when
    with pytest.raises(InsufficientCredits) as err:
        wallet_debit(account=tenants.a, amount="10.0001", idempotency_key="k-402")
    # then
    assert (err.value.status, err.value.code) == (402, "insufficient_credits")
    assert err.value.extra == {"balance": "10.0000", "price": "10.0001"}
    assert "10.0001" in err.value.message and "10.0000" in err.value.message
    assert _written(tenants.a) == before
    assert _ledger(tenants.a) == [("bonus", D("10.0000"), D("10.0000"))]


def test_insufficient_credits_counts_only_spendable_credits(tenants):
    # given 10 credits of which 8 are held
    fund(tenants.a, "10")
    reservation_hold(account=tenants.a, amount="8")
    # when / then
    with pytest.raises(InsufficientCredits) as err:
        spend(tenants.a, "3")
    assert err.value.extra == {"balance": "2.0000", "price": "3.0000"}
    assert _balance(tenants.a) == D("10.0000")


def test_debit_from_an_account_without_a_wallet_is_insufficient(tenants):
    with pytest.raises(InsufficientCredits) as err:
        spend(tenants.b, "1")
    assert err.value.extra == {"balance": "0", "price": "1.0000"}
    with account_context(tenants.b.id):
        assert not CreditTransaction.objects.exists()


def test_bonus_credit_adds_to_balance_and_lifetime_credits(tenants):
    # when
    first = wallet_credit(account=tenants.a, amount="12.3456", type="bonus", actor=tenants.alice, description="hi")
    second = wallet_credit(account=tenants.a, amount=D("0.0044"), type="grant")
    spend(tenants.a, "2")
    # then
    assert (first.amount, first.balance_after) == (D("12.3456"), D("12.3456"))
    assert (second.amount, second.balance_after) == (D("0.0044"), D("12.3500"))
    with account_context(tenants.a.id):
        wallet = Wallet.objects.get(account=tenants.a)
    assert (wallet.balance, wallet.lifetime_credits) == (D("10.3500"), D("12.3500"))


def test_top_up_carries_its_payment_and_the_same_payment_credits_once(tenants):
    payment = PaymentInfo(method="card", provider="dev", provider_payment_id="dev_pi_1", amount_paid=D("5.00"),
                          currency="USD")  # fmt: skip
    # when the provider reports the same payment twice
    first = wallet_credit(account=tenants.a, amount="500", type="top_up", payment=payment)
    again = wallet_credit(account=tenants.a, amount="500", type="top_up", payment=payment)
    # then
    assert again.pk == first.pk
    assert _ledger(tenants.a) == [("top_up", D("500.0000"), D("500.0000"))]
    with account_context(tenants.a.id):
        stored = CreditTransaction.objects.get()
    paid = (stored.payment_method, stored.provider, stored.provider_payment_id, stored.amount_paid, stored.currency)
    assert paid == ("card", "dev", "dev_pi_1", D("5.000000"), "USD")


def test_top_up_without_payment_is_refused(tenants):
    before = _written(tenants.a)
    with pytest.raises(InvalidInput):
        wallet_credit(account=tenants.a, amount="5", type="top_up")
    assert _written(tenants.a) == before


def test_adjust_bonus_fine_and_signed_adjustment(tenants):
    # given
    fund(tenants.a, "20")
    # when
    bonus = wallet_adjust(account=tenants.a, amount="5", actor=tenants.alice, reason="goodwill", kind="bonus")
    fine = wallet_adjust(account=tenants.a, amount="3", actor=tenants.alice, reason="abuse", kind="fine")
    down = wallet_adjust(account=tenants.a, amount="-1.5", actor=tenants.alice, reason="correction")
    up = wallet_adjust(account=tenants.a, amount="0.25", actor=tenants.alice, reason="correction")
    # then
    assert [(t.type, t.amount, t.balance_after, t.description) for t in (bonus, fine, down, up)] == [
        ("bonus", D("5.0000"), D("25.0000"), "goodwill"),
        ("fine", D("-3.0000"), D("22.0000"), "abuse"),
        ("adjustment", D("-1.5000"), D("20.5000"), "correction"),
        ("adjustment", D("0.2500"), D("20.7500"), "correction"),
    ]
    assert all(t.actor_id == tenants.alice.id for t in (bonus, fine, down, up))
    assert _balance(tenants.a) == D("20.7500")
    with account_context(tenants.a.id):
        assert Wallet.objects.get(account=tenants.a).lifetime_credits == D("25.0000")


@pytest.mark.parametrize("kind,amount", [("fine", "10.0001"), ("adjustment", "-10.0001")])
def test_adjust_below_zero_is_insufficient_and_writes_nothing(tenants, kind, amount):
    fund(tenants.a, "10")
    before = _written(tenants.a)
    with pytest.raises(InsufficientCredits) as err:
        wallet_adjust(account=tenants.a, amount=amount, actor=tenants.alice, reason="x", kind=kind)
    assert err.value.extra == {"balance": "10.0000", "price": "10.0001"}
    assert _written(tenants.a) == before


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_adjust_requires_a_reason(tenants, reason):
    fund(tenants.a, "10")
    before = _written(tenants.a)
    with pytest.raises(InvalidInput) as err:
        wallet_adjust(account=tenants.a, amount="1", actor=tenants.alice, reason=reason, kind="bonus")
    assert err.value.fields == {"reason": ["Say why, for the audit trail."]}
    assert _written(tenants.a) == before


BAD_AMOUNTS = ["-1", "0", 0, "0.0000", "NaN", "sNaN", "Infinity", "-inf", "abc", "", " ", None, "1.00001", 1.00001,
               "0.00001", "1,5", "1000000000.0001"]  # fmt: skip


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
@pytest.mark.parametrize(
    "operation",
    [
        lambda account, amount: wallet_debit(account=account, amount=amount),
        lambda account, amount: wallet_debit(account=account, amount=amount, idempotency_key="bad-1"),
        lambda account, amount: wallet_credit(account=account, amount=amount, type="bonus"),
        lambda account, amount: reservation_hold(account=account, amount=amount),
        lambda account, amount: wallet_adjust(account=account, amount=amount, actor=None, reason="r", kind="bonus"),
        lambda account, amount: wallet_adjust(account=account, amount=amount, actor=None, reason="r", kind="fine"),
    ],
    ids=["debit", "debit-with-key", "credit", "hold", "adjust-bonus", "adjust-fine"],
)
def test_bad_amounts_are_invalid_input_and_write_nothing(tenants, operation, amount):
    # given
    fund(tenants.a, "50")
    before = _written(tenants.a)
    # when / then
    with pytest.raises(InvalidInput) as err:
        operation(tenants.a, amount)
    assert err.value.status == 400
    assert err.value.fields and set(err.value.fields) == {"amount"}
    assert _written(tenants.a) == before


@pytest.mark.parametrize("amount", ["abc", "NaN", "sNaN", "", None, "1.00001", "-1.00001", "0", "-0", "inf"])
def test_bad_signed_adjustment_amounts_are_invalid_input_and_write_nothing(tenants, amount):
    fund(tenants.a, "50")
    before = _written(tenants.a)
    with pytest.raises(InvalidInput):
        wallet_adjust(account=tenants.a, amount=amount, actor=tenants.alice, reason="r", kind="adjustment")
    assert _written(tenants.a) == before


@pytest.mark.parametrize("amount,stored", [("1.50000", D("1.5000")), (" 2 ", D("2.0000")), (3, D("3.0000")),
                                           (D("0.1000"), D("0.1000")), ("1e1", D("10.0000"))])  # fmt: skip
def test_amounts_with_only_trailing_zeros_past_four_places_are_accepted(tenants, amount, stored):
    fund(tenants.a, "50")
    assert spend(tenants.a, amount).amount == -stored


@pytest.mark.parametrize(
    "operation",
    [
        lambda account: wallet_debit(account=account, amount="1", type="bonus"),
        lambda account: wallet_debit(account=account, amount="1", type="refund"),
        lambda account: wallet_debit(account=account, amount="1", type="teleport"),
        lambda account: wallet_credit(account=account, amount="1", type="use"),
        lambda account: wallet_credit(account=account, amount="1", type="refund"),
        lambda account: wallet_credit(account=account, amount="1", type="teleport"),
        lambda account: reservation_hold(account=account, amount="1", type="bonus"),
        lambda account: wallet_adjust(account=account, amount="1", actor=None, reason="r", kind="use"),
        lambda account: wallet_adjust(account=account, amount="1", actor=None, reason="r", kind="teleport"),
    ],
    ids=[
        "debit-bonus",
        "debit-refund",
        "debit-unknown",
        "credit-use",
        "credit-refund",
        "credit-unknown",
        "hold-bonus",
        "adjust-use",
        "adjust-unknown",
    ],  # fmt: skip
)
def test_unknown_or_wrong_types_are_invalid_input_and_write_nothing(tenants, operation):
    fund(tenants.a, "50")
    before = _written(tenants.a)
    with pytest.raises(InvalidInput) as err:
        operation(tenants.a)
    assert err.value.status == 400
    assert _written(tenants.a) == before


def test_a_debit_in_one_account_leaves_the_other_untouched(tenants):
    fund(tenants.a, "10")
    fund(tenants.b, "10")
    spend(tenants.a, "4")
    assert (_balance(tenants.a), _balance(tenants.b)) == (D("6.0000"), D("10.0000"))
    assert _ledger(tenants.b) == [("bonus", D("10.0000"), D("10.0000"))]
