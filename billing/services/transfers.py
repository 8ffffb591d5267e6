"""Credits that move from one account to another: a marketplace sale.

The buyer's charge, the seller's earning (the price minus the platform's fee)
and the idempotency key are written in one database transaction, each leg with
the ledger's conditional update (`ledger._post`), so either both accounts
changed or neither did. The fee is simply not credited to anyone: it leaves
circulation, like any other spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Account
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InvalidInput
from billing.models import CreditTransaction

from .amounts import parse_credits
from .idempotency import claim_key, fingerprint, remember
from .ledger import NO_REFERENCE, Reference, insufficient_credits, ledger_post, wallet_for

Type = CreditTransaction.Type
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Transfer:
    """The two ledger rows of a sale; `seller_tx` is None when the fee took all of it.
    `replayed` is True when the idempotency key had already been used."""

    buyer_tx: CreditTransaction
    seller_tx: CreditTransaction | None
    price: Decimal
    fee: Decimal
    replayed: bool = False


def fee_for(price: Decimal, fee_percent) -> Decimal:
    """The platform's cut of `price`, rounded to the cent (half up)."""
    percent = Decimal(str(fee_percent))
    if percent < 0 or percent > 100:
        raise InvalidInput(gettext("The platform fee must be between 0 and 100 percent."))
    return (price * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def wallet_transfer(
    *,
    payer: Account,
    payee: Account,
    amount,
    fee_percent,
    actor=None,
    reference: Reference = NO_REFERENCE,
    description: str = "",
    idempotency_key: str | None = None,
) -> Transfer:
    """Charge `payer` `amount` (type purchase) and credit `payee` the amount minus the
    fee (type sale), in one transaction. Too few credits: InsufficientCredits (402)
    and nothing moved. The same idempotency key charges once and returns the first
    transfer (`replayed=True`)."""
    if payer.pk == payee.pk:
        raise Conflict(gettext("An account cannot buy from itself."), code="own_item")
    price = parse_credits(amount)
    fee = fee_for(price, fee_percent)
    earning = price - fee
    wallet_for(payer)
    wallet_for(payee)
    with transaction.atomic():
        with account_context(payer.id):
            if idempotency_key:
                fp = fingerprint("transfer", amount=price, payee=str(payee.pk), ref=reference.type, ref_id=reference.id)
                first = claim_key(payer.id, idempotency_key, fp)
                if first is not None:
                    with account_context(payee.id):
                        seller_tx = CreditTransaction.objects.filter(
                            account=payee, type=Type.SALE, reference_type=reference.type,
                            reference_id=str(reference.id),
                        ).first() if reference.type else None  # fmt: skip
                    return Transfer(first.transaction, seller_tx, price, fee, replayed=True)
            buyer_tx = ledger_post(
                account=payer, delta=-price, type=Type.PURCHASE, actor=actor, reference=reference,
                description=description, idempotency_key=idempotency_key,
            )  # fmt: skip
            if buyer_tx is None:
                raise insufficient_credits(payer, price)
        seller_tx = None
        if earning > 0:
            with account_context(payee.id):
                seller_tx = ledger_post(account=payee, delta=earning, type=Type.SALE, reference=reference,
                                  description=description)  # fmt: skip
        with account_context(payer.id):
            remember(payer.id, idempotency_key, transaction_id=buyer_tx.id)
    return Transfer(buyer_tx, seller_tx, price, fee)


def wallet_transfer_reverse(
    *,
    payer: Account,
    payee: Account,
    buyer_transaction_id,
    earning,
    actor=None,
    reason: str = "",
    reference: Reference = NO_REFERENCE,
) -> tuple[CreditTransaction, CreditTransaction | None]:
    """Undo a sale (an operator's refund): the buyer gets the whole price back
    (a refund of the purchase) and the seller gives back what they earned, in one
    transaction. A seller who has already spent it: Conflict (409), nothing moved."""
    from .ledger import wallet_refund

    earning = Decimal(str(earning))
    with transaction.atomic():
        refund_tx = wallet_refund(account=payer, transaction_id=buyer_transaction_id, actor=actor, reason=reason)
        reversal = None
        if earning > 0:
            with account_context(payee.id):
                reversal = ledger_post(account=payee, delta=-earning, type=Type.SALE_REVERSAL, actor=actor,
                                 reference=reference, description=reason)  # fmt: skip
                if reversal is None:
                    raise Conflict(
                        gettext(
                            "The seller no longer has the %(earning)s credits this sale earned them; "
                            "adjust their wallet first or refund the buyer with a bonus."
                        )
                        % {"earning": earning},
                        code="seller_cannot_repay",
                    )
    return refund_tx, reversal
