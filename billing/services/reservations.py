"""Credits held for work whose price is known only at the end.

hold: the estimate moves into `reserved` (spendable drops, balance does not);
settle: the actual price is charged from the balance and the hold is lifted;
release: the hold is lifted, nothing is charged. A sweep releases holds whose
work outlived them.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, InvalidInput, NotFound
from billing.models import CreditTransaction, Reservation, Wallet

from .amounts import parse_credits
from .idempotency import claim_key, fingerprint, remember
from .ledger import NO_REFERENCE, Reference, insufficient_credits, ledger_post

DEFAULT_TTL = timedelta(minutes=15)


def reservation_hold(
    *,
    account: Account,
    amount,
    type: str = CreditTransaction.Type.USE,
    actor=None,
    reference: Reference = NO_REFERENCE,
    ttl: timedelta = DEFAULT_TTL,
    idempotency_key: str | None = None,
) -> Reservation:
    if type not in CreditTransaction.DEBIT_TYPES:
        raise InvalidInput(
            gettext("'%(type)s' is not a spending type.") % {"type": type}, fields={"type": ["Unknown spending type."]}
        )
    estimate = parse_credits(amount)
    with account_context(account.id):  # one transaction (or savepoint) in the tenant context
        if idempotency_key:
            fp = fingerprint("hold", amount=estimate, type=type, ref=reference.type, ref_id=reference.id)
            first = claim_key(account.id, idempotency_key, fp)
            if first is not None:
                return first.reservation
        reservation = Reservation(
            account=account, amount=estimate, status=Reservation.Status.HELD, type=type, actor=actor,
            reference_type=reference.type, reference_id=str(reference.id), expires_at=timezone.now() + ttl,
            created_at=timezone.now(),
        )  # fmt: skip
        if not _hold_and_insert(reservation):
            raise insufficient_credits(account, estimate)  # a missing wallet has nothing to hold either
        remember(account.id, idempotency_key, reservation_id=reservation.id)
    return reservation


# Held and recorded in one statement: holds sit on the hot path of every streamed
# answer, where each round trip shows in the time to first token.
_HOLD_SQL = """
WITH held AS (
    UPDATE billing_wallet SET reserved = reserved + %(amount)s, updated_at = now()
     WHERE account_id = %(account)s AND balance - reserved >= %(amount)s
 RETURNING account_id
)
INSERT INTO billing_reservation
       (id, account_id, amount, status, type, actor_id, reference_type, reference_id, expires_at, created_at)
SELECT %(id)s, account_id, %(amount)s, %(status)s, %(type)s, %(actor)s, %(ref_type)s, %(ref_id)s, %(expires)s,
       %(created)s
  FROM held
RETURNING id
"""


def _hold_and_insert(reservation: Reservation) -> bool:
    """Move the amount into the wallet's `reserved` and store the reservation; False
    (nothing written) when the spendable balance is short."""
    params = {
        "id": reservation.id, "account": reservation.account_id, "amount": reservation.amount,
        "status": reservation.status, "type": reservation.type, "actor": reservation.actor_id,
        "ref_type": reservation.reference_type, "ref_id": reservation.reference_id,
        "expires": reservation.expires_at, "created": reservation.created_at,
    }  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(_HOLD_SQL, params)
        if cur.fetchone() is None:
            return False
    reservation._state.adding, reservation._state.db = False, connection.alias
    return True


def _lock_open(account: Account, reservation_id) -> Reservation:
    reservation = Reservation.objects.select_for_update().filter(account=account, pk=reservation_id).first()
    if reservation is None:
        raise NotFound(gettext("No such reservation in this account."))
    if reservation.status != Reservation.Status.HELD:
        raise Conflict(
            gettext("This reservation is already %(status)s.") % {"status": reservation.status},
            code="reservation_closed",
        )
    return reservation


def _unhold(account: Account, amount: Decimal) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE billing_wallet SET reserved = reserved - %s, updated_at = now() WHERE account_id = %s",
            [amount, account.id],
        )


def reservation_settle(*, account: Account, reservation_id, actual, description: str = "") -> CreditTransaction | None:
    """Charge the actual price (None when it is zero) and lift the hold.

    Work that cost more than its estimate is charged in full when the wallet can
    pay; otherwise it is charged what the wallet has, never below zero.
    """
    price = parse_credits(actual, field="actual", allow_zero=True)
    with account_context(account.id):  # one transaction (or savepoint) in the tenant context
        reservation = _lock_open(account, reservation_id)
        _unhold(account, reservation.amount)
        tx = None
        if price > 0:
            ref = Reference(reservation.reference_type, reservation.reference_id)
            tx = ledger_post(account=account, delta=-price, type=reservation.type, actor=reservation.actor,
                       reference=ref, description=description)  # fmt: skip
            if tx is None:
                wallet = Wallet.objects.select_for_update().get(account=account)
                payable = wallet.balance - wallet.reserved
                if payable > 0:
                    note = f"{description} (estimate exceeded; {price} due, {payable} available)".strip()
                    tx = ledger_post(account=account, delta=-payable, type=reservation.type, actor=reservation.actor,
                               reference=ref, description=note)  # fmt: skip
        reservation.status = Reservation.Status.SETTLED
        reservation.transaction = tx
        reservation.closed_at = timezone.now()
        reservation.save(update_fields=["status", "transaction", "closed_at"])
    return tx


def reservation_release(*, account: Account, reservation_id, status: str = Reservation.Status.RELEASED) -> Reservation:
    with account_context(account.id):  # one transaction (or savepoint) in the tenant context
        reservation = _lock_open(account, reservation_id)
        _unhold(account, reservation.amount)
        reservation.status = status
        reservation.closed_at = timezone.now()
        reservation.save(update_fields=["status", "closed_at"])
    return reservation


def reservations_expire() -> int:
    """Release every hold past its expiry (platform sweep across tenants)."""
    with rls_bypass("periodic reservation expiry sweep"):
        due = list(
            Reservation.objects.filter(status=Reservation.Status.HELD, expires_at__lt=timezone.now())
            .select_related("account")
            .values_list("account_id", "id")
        )
    released = 0
    for account_id, reservation_id in due:
        try:
            reservation_release(
                account=Account(id=account_id), reservation_id=reservation_id, status=Reservation.Status.EXPIRED
            )
            released += 1
        except Conflict:
            pass  # settled meanwhile
    return released
