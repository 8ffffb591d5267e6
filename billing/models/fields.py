from decimal import Decimal

from django.db import models

CREDIT_DIGITS = 18
CREDIT_PLACES = 4
CREDIT_QUANTUM = Decimal(1).scaleb(-CREDIT_PLACES)


def credit_field(**kwargs) -> models.DecimalField:
    """Credits: high precision, four decimal places (seed 000 `balance DECIMAL`)."""
    if not kwargs.get("null"):
        kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(max_digits=CREDIT_DIGITS, decimal_places=CREDIT_PLACES, **kwargs)


def money_field(**kwargs) -> models.DecimalField:
    """Real money paid or provider cost, in the currency next to it."""
    return models.DecimalField(max_digits=14, decimal_places=6, **kwargs)
