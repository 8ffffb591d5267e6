"""Parsing credit amounts at the edge: positive, at most four decimal places."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext

from aiplatform.errors import InvalidInput
from billing.models.fields import CREDIT_PLACES

MAX_CREDITS = Decimal("1000000000")


def parse_credits(value, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(gettext("Amount must be a number."), fields={field: ["Enter a number, e.g. 12.5."]})
    if not amount.is_finite():
        raise InvalidInput(gettext("Amount must be a finite number."), fields={field: ["Enter a finite number."]})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(
            gettext("Amount must be greater than zero."), fields={field: ["Enter an amount above zero."]}
        )
    if amount.as_tuple().exponent < -CREDIT_PLACES and amount != amount.quantize(Decimal(1).scaleb(-CREDIT_PLACES)):
        raise InvalidInput(
            gettext("Amount has more than %(CREDIT_PLACES)s decimal places.") % {"CREDIT_PLACES": CREDIT_PLACES},
            fields={field: [f"Use at most {CREDIT_PLACES} decimal places."]},
        )
    if amount > MAX_CREDITS:
        raise InvalidInput(gettext("Amount is too large."), fields={field: [f"At most {MAX_CREDITS} credits at once."]})
    return amount.quantize(Decimal(1).scaleb(-CREDIT_PLACES))


def parse_signed_credits(value, *, field: str = "amount") -> Decimal:
    """A non-zero amount that may be negative (operator adjustments)."""
    try:
        raw = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(gettext("Amount must be a number."), fields={field: ["Enter a number, e.g. -12.5."]})
    if not raw.is_finite():
        raise InvalidInput(gettext("Amount must be a finite number."), fields={field: ["Enter a finite number."]})
    magnitude = parse_credits(abs(raw), field=field)
    return magnitude if raw > 0 else -magnitude
