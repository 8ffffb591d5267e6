"""Credits as people read them: `1,234.5`, and signed for ledger amounts: `+100`, `−3`."""

from __future__ import annotations

from decimal import Decimal

from django import template

from aiplatform.charts import display_number, plain_number

register = template.Library()


@register.filter
def number(value) -> str:
    """Thousands separated, no trailing zeros: `1,234.5`."""
    if value is None or value == "":
        return ""
    return display_number(Decimal(str(value)))


@register.filter
def credits(value) -> str:
    if value is None or value == "":
        return ""
    return display_number(Decimal(str(value)))


@register.filter
def signed_credits(value) -> str:
    if value is None or value == "":
        return ""
    amount = Decimal(str(value))
    text = display_number(abs(amount))
    return f"+{text}" if amount > 0 else f"−{text}" if amount < 0 else text


@register.filter
def plain_credits(value) -> str:
    """For form inputs: `10`, `12.5` (no thousands separators)."""
    if value is None or value == "":
        return ""
    return plain_number(Decimal(str(value)))
