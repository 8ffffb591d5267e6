"""The only code that changes a balance.

Every change is one conditional UPDATE of the wallet row joined with the INSERT
of its ledger row, in a single statement inside one transaction: the row lock
lasts one statement plus the commit, the balance never goes below what open
reservations hold, and the ledger row carries the balance it produced.
Idempotency keys are claimed in the same transaction, so a retried request
charges once and gets the first result back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, InsufficientCredits, InvalidInput, NotFound
from aiplatform.ids import uuid7
from billing.models import CreditTransaction, IdempotencyRecord, Wallet

from . import debit_batch
from .amounts import parse_credits, parse_signed_credits
from .debit_batch import Debit
from .idempotency import claim_key, fingerprint, remember

Type = CreditTransaction.Type


@dataclass(frozen=True)
class PaymentInfo:
    method: str
    provider: str
    provider_payment_id: str
    amount_paid: Decimal
    currency: str


@dataclass(frozen=True)
class Reference:
    type: str = ""
    id: str = ""


NO_REFERENCE = Reference()

# billing_post (billing/sql/ledger_post.sql): the one statement that moves a balance and
# writes its ledger row, here with every column a ledger row can carry.
_POST_SQL = "SELECT * FROM billing_post(" + ", ".join(["%s"] * 16) + ")"


def wallet_for(account: Account) -> Wallet:
    """The account's wallet, created on first use."""
    with account_context(account.id):
        wallet, _ = Wallet.objects.get_or_create(account=account)
    return wallet


def ledger_post(
    *,
    account: Account,
    delta: Decimal,
    type: str,
    actor=None,
    reference: Reference = NO_REFERENCE,
    description: str = "",
    payment: PaymentInfo | None = None,
    idempotency_key: str | None = None,
    refund_of_id=None,
) -> CreditTransaction | None:
    """Apply `delta` and write its ledger row; None when the wallet cannot afford it."""
    tx_id = uuid7()
    params = [
        tx_id, account.id, delta, type, actor.pk if actor is not None else None, reference.type, str(reference.id),
        description, type in (Type.TOP_UP, Type.BONUS, Type.GRANT),
        payment.method if payment else "", payment.provider if payment else "",
        payment.provider_payment_id if payment else None, payment.amount_paid if payment else None,
        payment.currency if payment else "", idempotency_key, refund_of_id,
    ]  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(_POST_SQL, params)
        row = cur.fetchone()
    if row is None:
        return None
    balance_after, reserved, top_up_below = row
    tx = _ledger_row(
        id=tx_id, account=account, amount=delta, type=type, balance_after=balance_after, actor=actor,
        reference_type=reference.type, reference_id=str(reference.id), description=description,
        idempotency_key=idempotency_key, refund_of_id=refund_of_id,
        **({"payment_method": payment.method, "provider": payment.provider,
            "provider_payment_id": payment.provider_payment_id, "amount_paid": payment.amount_paid,
            "currency": payment.currency} if payment else {}),
    )  # fmt: skip
    _top_up_if_crossed(account.id, delta=delta, spendable=balance_after - reserved, top_up_below=top_up_below)
    return tx


def _ledger_row(**fields) -> CreditTransaction:
    """The CreditTransaction that a raw debit statement wrote, as the caller's object
    (the one place it is rebuilt; the columns are checked against the SQL by
    tests/billing/test_raw_sql_columns.py)."""
    tx = CreditTransaction(**fields)
    tx.created_at = timezone.now()
    return tx


def _top_up_if_crossed(account_id, *, delta: Decimal, spendable: Decimal, top_up_below: Decimal | None) -> None:
    """The one threshold check: only the change that takes the spendable balance from
    at or above the auto top-up threshold to below it schedules a top-up, not every
    debit under it."""
    if top_up_below is not None and spendable < top_up_below <= spendable - delta:
        _schedule_top_up(account_id)


def _schedule_top_up(account_id) -> None:
    from billing.tasks import top_up_check

    transaction.on_commit(lambda: top_up_check.delay(account_id=str(account_id)))


def insufficient_credits(account: Account, price: Decimal) -> InsufficientCredits:
    wallet = Wallet.objects.filter(account=account).values("balance", "reserved").first()
    available = (wallet["balance"] - wallet["reserved"]) if wallet else Decimal("0")
    return InsufficientCredits(
        gettext("Not enough credits: this costs %(price)s and %(available)s are available. Top up to continue.")
        % {"price": price, "available": available},
        extra={"balance": str(available), "price": str(price)},
    )


def wallet_debit(
    *,
    account: Account,
    amount,
    type: str = Type.USE,
    actor=None,
    reference: Reference = NO_REFERENCE,
    description: str = "",
    idempotency_key: str | None = None,
) -> CreditTransaction:
    """Spend credits. Raises InsufficientCredits (402) and changes nothing when short."""
    if type not in CreditTransaction.DEBIT_TYPES:
        raise InvalidInput(
            gettext("'%(type)s' is not a spending type.") % {"type": type}, fields={"type": ["Unknown spending type."]}
        )
    price = parse_credits(amount)
    if idempotency_key is None and not connection.in_atomic_block:
        return _debit_in_one_statement(
            account=account, price=price, type=type, actor=actor, reference=reference, description=description
        )
    with account_context(account.id):  # one transaction (or savepoint) in the tenant context
        if idempotency_key:
            fp = fingerprint("debit", amount=price, type=type, ref=reference.type, ref_id=reference.id)
            first = claim_key(account.id, idempotency_key, fp)
            if first is not None:
                return first.transaction
        tx = ledger_post(
            account=account, delta=-price, type=type, actor=actor, reference=reference,
            description=description, idempotency_key=idempotency_key,
        )  # fmt: skip
        if tx is None:
            raise insufficient_credits(account, price)
        remember(account.id, idempotency_key, transaction_id=tx.id)
    return tx


def _debit_in_one_statement(*, account, price, type, actor, reference, description) -> CreditTransaction:
    """The hot path outside any transaction: `billing_post` (billing/sql/ledger_post.sql) sets the
    tenant context and does the conditional update and the ledger insert in one
    autocommitted statement, so the wallet row is locked for one round trip.
    Concurrent debits of this process share one statement and commit (debit_batch)."""
    tx_id = uuid7()
    actor_id = actor.pk if actor is not None else None
    row = debit_batch.post(
        Debit(id=tx_id, account_id=account.id, delta=-price, type=type, actor_id=actor_id,
              reference_type=reference.type, reference_id=str(reference.id), description=description)
    )  # fmt: skip
    if row is None:
        with account_context(account.id):
            raise insufficient_credits(account, price)
    balance_after, reserved, top_up_below = row
    tx = _ledger_row(
        id=tx_id, account=account, amount=-price, type=type, balance_after=balance_after, actor=actor,
        reference_type=reference.type, reference_id=str(reference.id), description=description,
    )  # fmt: skip
    _top_up_if_crossed(account.id, delta=-price, spendable=balance_after - reserved, top_up_below=top_up_below)
    return tx


def wallet_credit(
    *,
    account: Account,
    amount,
    type: str,
    actor=None,
    reference: Reference = NO_REFERENCE,
    description: str = "",
    payment: PaymentInfo | None = None,
    idempotency_key: str | None = None,
) -> CreditTransaction:
    """Add credits: top-ups (with their payment), bonuses, plan grants."""
    if type not in (Type.TOP_UP, Type.BONUS, Type.GRANT):
        raise InvalidInput(
            gettext("'%(type)s' is not a crediting type.") % {"type": type},
            fields={"type": ["Unknown crediting type."]},
        )
    credits = parse_credits(amount)
    if type == Type.TOP_UP and payment is None:
        raise InvalidInput(gettext("A top-up needs its payment."))
    wallet_for(account)
    with account_context(account.id):  # one transaction (or savepoint) in the tenant context
        if idempotency_key:
            fp = fingerprint("credit", amount=credits, type=type, ref=reference.type, ref_id=reference.id)
            first = claim_key(account.id, idempotency_key, fp)
            if first is not None:
                return first.transaction
        if payment is not None:
            already = _credited_payment(account, payment)
            if already is not None:
                return already  # the same payment reported twice credits once
        try:
            with transaction.atomic():
                tx = ledger_post(
                    account=account, delta=credits, type=type, actor=actor, reference=reference,
                    description=description, payment=payment, idempotency_key=idempotency_key,
                )  # fmt: skip
        except IntegrityError:
            if payment is None:
                raise
            # A concurrent delivery of the same payment won the unique index.
            already = _credited_payment(account, payment)
            if already is None:
                raise
            return already
        remember(account.id, idempotency_key, transaction_id=tx.id)
    return tx


def _credited_payment(account: Account, payment: PaymentInfo) -> CreditTransaction | None:
    """The ledger row of this provider payment, if it was credited already.

    Provider payment ids are unique across all accounts, so look beyond the
    tenant: a payment credited to another account or for another amount is a
    conflict to investigate, never a second credit.
    """
    with rls_bypass("payment id uniqueness check across accounts"):
        row = CreditTransaction.objects.filter(provider_payment_id=payment.provider_payment_id).first()
    if row is None:
        return None
    if row.account_id != account.id or row.amount_paid != payment.amount_paid or row.currency != payment.currency:
        raise Conflict(
            gettext("This provider payment was already credited with other details. It needs review."),
            code="payment_already_credited",
        )
    return row


def wallet_adjust(*, account: Account, amount, actor, reason: str, kind: str = Type.ADJUSTMENT) -> CreditTransaction:
    """Operator action: bonus (+), fine (-) or signed adjustment, always with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(gettext("A reason is required."), fields={"reason": ["Say why, for the audit trail."]})
    if kind == Type.ADJUSTMENT:
        signed = parse_signed_credits(amount)
    elif kind == Type.BONUS:
        signed = parse_credits(amount)
    elif kind == Type.FINE:
        signed = -parse_credits(amount)
    else:
        raise InvalidInput(gettext("Choose bonus, fine or adjustment."), fields={"kind": ["Unknown kind."]})
    wallet_for(account)
    with account_context(account.id):  # one transaction (or savepoint) in the tenant context
        tx = ledger_post(account=account, delta=signed, type=kind, actor=actor, description=reason)
        if tx is None:
            raise insufficient_credits(account, -signed)
    return tx


def wallet_refund(
    *, account: Account, transaction_id, actor=None, amount=None, reason: str = "", idempotency_key: str | None = None
) -> CreditTransaction:
    """Give back (part of) a charge. Never more than was charged; refunds are not refundable."""
    with account_context(account.id):  # one transaction (or savepoint) in the tenant context
        # The wallet lock serialises refunds of the same charge.
        Wallet.objects.select_for_update().filter(account=account).first()
        original = CreditTransaction.objects.filter(account=account, pk=transaction_id).first()
        if original is None:
            raise NotFound(gettext("No such transaction in this account."))
        if original.type not in CreditTransaction.DEBIT_TYPES:
            raise Conflict(
                gettext("Only charges can be refunded; this transaction is not a charge."), code="not_refundable"
            )
        if idempotency_key:
            fp = fingerprint("refund", tx=transaction_id, amount=amount if amount is None else parse_credits(amount))
            first = claim_key(account.id, idempotency_key, fp)
            if first is not None:
                return first.transaction
        already = sum((r.amount for r in original.refunds.all()), Decimal("0"))
        left = -original.amount - already
        refund = left if amount is None else parse_credits(amount)
        if refund <= 0 or refund > left:
            raise Conflict(
                gettext("At most %(left)s of this charge can still be refunded.") % {"left": left},
                code="refund_exceeds_charge",
                extra={"refundable": str(left)},
            )
        tx = ledger_post(
            account=account, delta=refund, type=Type.REFUND, actor=actor,
            reference=Reference("credit_transaction", str(original.id)),
            description=reason, idempotency_key=idempotency_key, refund_of_id=original.id,
        )  # fmt: skip
        remember(account.id, idempotency_key, transaction_id=tx.id)
    return tx


def idempotency_purge() -> int:
    """Keys are kept IDEMPOTENCY_TTL_HOURS (at least 24 h), then forgotten."""
    from accounts.tenancy.context import rls_bypass

    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    with rls_bypass("periodic idempotency key purge"):
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
