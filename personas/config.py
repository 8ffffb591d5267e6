"""Validation of a persona's `model_config` against the model registry."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext

from aiplatform.ai.errors import ModelUnavailable
from aiplatform.ai.registry import model_get
from aiplatform.errors import InvalidInput

TEMPERATURE_MIN = Decimal("0")
TEMPERATURE_MAX = Decimal("2")
DEFAULT_TEMPERATURE = 0.7
KEYS = ("model", "temperature", "max_tokens")


def _temperature(value: Any, errors: dict[str, list[str]]) -> float | None:
    if value is None or value == "":
        return DEFAULT_TEMPERATURE
    if isinstance(value, bool):
        errors["temperature"] = ["Enter a number."]
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors["temperature"] = ["Enter a number."]
        return None
    if not number.is_finite() or not TEMPERATURE_MIN <= number <= TEMPERATURE_MAX:
        errors["temperature"] = [f"Must be between {TEMPERATURE_MIN} and {TEMPERATURE_MAX}."]
        return None
    return float(number)


def _max_tokens(value: Any, limit: int | None, errors: dict[str, list[str]]) -> int | None:
    if value is None or value == "":
        return limit  # the model's own maximum
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("-").isdigit():
        errors["max_tokens"] = ["Enter a whole number."]
        return None
    number = int(value)
    if limit is not None and not 1 <= number <= limit:
        errors["max_tokens"] = [f"Must be between 1 and {limit}, the model's maximum output."]
        return None
    if number < 1:
        errors["max_tokens"] = ["Must be at least 1."]
        return None
    return number


def model_config_clean(config: Any) -> dict[str, Any]:
    """`config` checked and normalised to `{"model", "temperature", "max_tokens"}`.

    The model must be an enabled chat model of the registry; temperature lies in
    0..2 (default 0.7); max_tokens in 1..the model's `max_output_tokens` (default:
    that maximum). Raises InvalidInput with one message per field.
    """
    if not isinstance(config, dict):
        raise InvalidInput(
            gettext("The model configuration must be an object."), fields={"model_config": ["Not an object."]}
        )
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(config) - set(KEYS))
    if unknown:
        errors["model_config"] = [f"Unknown settings: {', '.join(unknown)}."]
    name = config.get("model")
    limit = None
    if not name or not isinstance(name, str):
        errors["model"] = ["Choose a model."]
    else:
        try:
            limit = model_get(name).max_output_tokens
        except ModelUnavailable as exc:
            errors["model"] = [exc.message]
    temperature = _temperature(config.get("temperature"), errors)
    max_tokens = _max_tokens(config.get("max_tokens"), limit, errors)
    if errors:
        raise InvalidInput(gettext("The model configuration is invalid."), fields=errors)
    return {"model": name, "temperature": temperature, "max_tokens": max_tokens}
