"""A hypothesis state machine drives the ledger through random sequences of
top-ups, debits, holds, settlements, releases and refunds, and after every step
checks the database against a small in-memory model of the wallet."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InsufficientCredits
from billing.models import CreditTransaction, Reservation, Wallet
from billing.services.ledger import wallet_credit, wallet_debit, wallet_refund
from billing.services.reservations import reservation_hold, reservation_release, reservation_settle
from tests.accounts.factories import AccountFactory

pytestmark = pytest.mark.django_db

ZERO = Decimal("0")


def credits(max_value: int) -> st.SearchStrategy[Decimal]:
    """Whole credits mostly (so sums collide with limits often), and any 4-place amount."""
    return st.one_of(
        st.integers(1, max_value).map(Decimal),
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(max_value), places=4),
    )


class LedgerMachine(RuleBasedStateMachine):
    holds = Bundle("holds")  # (reservation id, estimate)
    closed_holds = Bundle("closed_holds")
    charges = Bundle("charges")  # transaction id of a debit or a settled charge

    def __init__(self):
        super().__init__()
        self.account = AccountFactory()
        self.balance = ZERO
        self.reserved = ZERO
        self.charged: dict = {}  # charge id -> amount still refundable

    # --- rules ---------------------------------------------------------------------

    @initialize(amount=st.one_of(st.just(ZERO), credits(100)))
    def opening_balance(self, amount):
        if amount:
            self.top_up(amount)

    @rule(amount=credits(50))
    def top_up(self, amount):
        tx = wallet_credit(account=self.account, amount=amount, type="bonus")
        self.balance += amount
        assert tx.balance_after == self.balance

    @rule(target=charges, amount=credits(30))
    def debit(self, amount):
        if amount > self.balance - self.reserved:
            with pytest.raises(InsufficientCredits) as err:
                wallet_debit(account=self.account, amount=amount)
            assert (Decimal(err.value.extra["balance"]), Decimal(err.value.extra["price"])) == (
                self.balance - self.reserved, amount,
            )  # fmt: skip
            return multiple()
        tx = wallet_debit(account=self.account, amount=amount)
        self.balance -= amount
        assert (tx.amount, tx.balance_after) == (-amount, self.balance)
        self.charged[tx.id] = amount
        return tx.id

    @rule(target=holds, amount=credits(30))
    def reserve(self, amount):
        if amount > self.balance - self.reserved:
            with pytest.raises(InsufficientCredits):
                reservation_hold(account=self.account, amount=amount)
            return multiple()
        held = reservation_hold(account=self.account, amount=amount)
        self.reserved += amount
        return held.id, amount

    @rule(target=closed_holds, hold=consumes(holds), factor=st.sampled_from(["0", "0.5", "1", "3"]))
    def settle(self, hold, factor):
        reservation_id, estimate = hold
        return self._settle(reservation_id, estimate, (estimate * Decimal(factor)).quantize(Decimal("0.0001")))

    @rule(target=closed_holds, hold=consumes(holds))
    def settle_beyond_what_the_wallet_has(self, hold):
        reservation_id, estimate = hold
        return self._settle(reservation_id, estimate, self.balance + 1)

    def _settle(self, reservation_id, estimate: Decimal, actual: Decimal):
        tx = reservation_settle(account=self.account, reservation_id=reservation_id, actual=actual)
        self.reserved -= estimate
        # More than the estimate is charged only as far as the spendable balance goes.
        charge = min(actual, self.balance - self.reserved)
        if charge == 0:
            assert tx is None
        else:
            self.balance -= charge
            assert (tx.amount, tx.balance_after) == (-charge, self.balance)
            self.charged[tx.id] = charge
        return reservation_id

    @rule(target=closed_holds, hold=consumes(holds))
    def release(self, hold):
        reservation_id, estimate = hold
        reservation_release(account=self.account, reservation_id=reservation_id)
        self.reserved -= estimate
        return reservation_id

    @rule(reservation_id=closed_holds, settle=st.booleans())
    def close_again(self, reservation_id, settle):
        with pytest.raises(Conflict):
            if settle:
                reservation_settle(account=self.account, reservation_id=reservation_id, actual="1")
            else:
                reservation_release(account=self.account, reservation_id=reservation_id)

    @rule(charge=charges, fraction=st.sampled_from([None, Decimal("0.25"), Decimal("0.5"), Decimal("1"), Decimal("2")]))
    def refund(self, charge, fraction):
        left = self.charged[charge]
        amount = None if fraction is None else max(Decimal("0.0001"), (left * fraction).quantize(Decimal("0.0001")))
        wanted = left if amount is None else amount
        if wanted == 0 or wanted > left:
            with pytest.raises(Conflict):
                wallet_refund(account=self.account, transaction_id=charge, amount=amount)
            return
        tx = wallet_refund(account=self.account, transaction_id=charge, amount=amount)
        self.balance += wanted
        self.charged[charge] = left - wanted
        assert (tx.amount, tx.balance_after) == (wanted, self.balance)

    # --- checks after every step ----------------------------------------------------

    @invariant()
    def database_matches_the_model(self):
        with account_context(self.account.id):
            wallet = Wallet.objects.filter(account=self.account).first()
            amounts = list(
                CreditTransaction.objects.filter(account=self.account).values_list("amount", "balance_after")
            )
            held = sum(Reservation.objects.filter(account=self.account, status="held").values_list("amount", flat=True))
        balance, reserved = (wallet.balance, wallet.reserved) if wallet else (ZERO, ZERO)
        assert (balance, reserved, balance - reserved) == (self.balance, self.reserved, self.balance - self.reserved)
        assert sum((a for a, _ in amounts), ZERO) == balance
        assert held == reserved
        assert balance >= 0 and reserved >= 0 and balance - reserved >= 0
        assert all(after >= 0 for _, after in amounts)


def test_ledger_state_machine(db):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
