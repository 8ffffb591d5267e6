"""A template's parameters: the definition operators write, and the validation
of what users send against it.

A definition is a JSON list, one object per parameter:

    {"name": "birth_date", "type": "date", "required": true,
     "label": {"en": "Birth date", "ko": "생년월일"}, "help": {"en": "…", "ko": "…"}}
    {"name": "gender", "type": "string", "enum": ["female", "male"],
     "enum_labels": {"ko": {"female": "여성", "male": "남성"}}}

Types: string (one line), text (several lines), integer, number, boolean, date
(YYYY-MM-DD), time (HH:MM), image (a photo the user uploads: JPEG, PNG or WebP,
sent to a vision model with the prompt; checked by services/files.py, never a
placeholder). Constraints: required, enum, min_length, max_length,
minimum, maximum, default.
"""

from __future__ import annotations

import math
import re
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from jsonschema import Draft202012Validator

from aiplatform.errors import InvalidInput

TYPES = ("string", "text", "integer", "number", "boolean", "date", "time", "image")
MAX_IMAGES = 4
DEFAULT_MAX_LENGTH = {"string": 200, "text": 4000}
HARD_MAX_LENGTH = 10_000
MAX_PARAMETERS = 30

_LOCALIZED = {"type": "object", "properties": {"en": {"type": "string"}, "ko": {"type": "string"}},
              "additionalProperties": False}  # fmt: skip
_ENUM_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}

DEFINITION_SCHEMA = {
    "type": "array",
    "maxItems": MAX_PARAMETERS,
    "items": {
        "type": "object",
        "required": ["name", "type"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,39}$"},
            "type": {"enum": list(TYPES)},
            "required": {"type": "boolean"},
            "label": _LOCALIZED,
            "help": _LOCALIZED,
            "enum": {"type": "array", "minItems": 1, "maxItems": 100, "uniqueItems": True},
            "enum_labels": {
                "type": "object",
                "properties": {"en": _ENUM_LABELS, "ko": _ENUM_LABELS},
                "additionalProperties": False,
            },  # fmt: skip
            "min_length": {"type": "integer", "minimum": 0, "maximum": HARD_MAX_LENGTH},
            "max_length": {"type": "integer", "minimum": 1, "maximum": HARD_MAX_LENGTH},
            "minimum": {"type": "number"},
            "maximum": {"type": "number"},
            "default": {},
        },
    },
}
_DEFINITION_VALIDATOR = Draft202012Validator(DEFINITION_SCHEMA)
# Control characters are refused in input: they have no place in a prompt and hide text from reviewers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MISSING = object()


def _where(error) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"parameters{path}"


def definition_errors(definition: Any) -> list[str]:
    """Everything wrong with a parameter definition ([] when it is fine)."""
    errors = [f"{_where(e)}: {e.message}" for e in _DEFINITION_VALIDATOR.iter_errors(definition)]
    if errors:
        return errors
    names = [p["name"] for p in definition]
    errors += [f"Parameter '{n}' is defined twice." for n in sorted({n for n in names if names.count(n) > 1})]
    if sum(spec["type"] == "image" for spec in definition) > MAX_IMAGES:
        errors.append(f"At most {MAX_IMAGES} image parameters.")
    for spec in definition:
        name, kind = spec["name"], spec["type"]
        if kind == "image":
            extra = sorted(set(spec) & {"enum", "default", "min_length", "max_length", "minimum", "maximum"})
            if extra:
                errors.append(f"'{name}': an image parameter has no {', '.join(extra)}.")
            continue
        if "enum" in spec:
            if kind not in ("string", "integer", "number"):
                errors.append(f"'{name}': a {kind} parameter cannot have an enum.")
            else:
                for value in spec["enum"]:
                    if _coerce(kind, value) is None:
                        errors.append(f"'{name}': enum value {value!r} is not a {kind}.")
        if kind not in ("string", "text") and ("min_length" in spec or "max_length" in spec):
            errors.append(f"'{name}': only string and text parameters have a length.")
        if kind not in ("integer", "number") and ("minimum" in spec or "maximum" in spec):
            errors.append(f"'{name}': only integer and number parameters have a minimum or maximum.")
        if spec.get("min_length", 0) > spec.get("max_length", HARD_MAX_LENGTH):
            errors.append(f"'{name}': min_length is above max_length.")
        if "minimum" in spec and "maximum" in spec and spec["minimum"] > spec["maximum"]:
            errors.append(f"'{name}': minimum is above maximum.")
        if "default" in spec and _check_one(spec, spec["default"]) is not None:
            errors.append(f"'{name}': the default does not satisfy the parameter's own rules.")
    return errors


def _coerce(kind: str, value: Any) -> Any:
    """The value as `kind`, or None. Strings from HTML forms are accepted for
    numbers, booleans, dates and times; booleans are never numbers."""
    if kind in ("string", "text"):
        return value if isinstance(value, str) else None
    if kind == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return None
    if kind == "number":
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return value if math.isfinite(value) else None
        if isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                return None
            if not number.is_finite():
                return None
            return int(number) if number == number.to_integral_value() else float(number)
        return None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "on", "1", "yes"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "off", "0", "no", ""):
            return False
        return None
    if kind == "date":
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()).isoformat() if len(value.strip()) == 10 else None
            except ValueError:
                return None
        return None
    if kind == "time":
        if isinstance(value, str) and _TIME.match(value.strip()):
            return time.fromisoformat(value.strip()).strftime("%H:%M")
        return None
    return None


# Messages are translated when raised: the request's language is active (HTML form and API alike).
TYPE_ERRORS = {
    "string": gettext_noop("Enter text."),
    "text": gettext_noop("Enter text."),
    "integer": gettext_noop("Enter a whole number."),
    "number": gettext_noop("Enter a number."),
    "boolean": gettext_noop("Enter true or false."),
    "date": gettext_noop("Enter a date (YYYY-MM-DD)."),
    "time": gettext_noop("Enter a time (HH:MM)."),
}


def _check_one(spec: dict, raw: Any) -> str | None:
    """An error message for `raw`, or None when it is valid."""
    return _clean_one(spec, raw)[1]


def _clean_one(spec: dict, raw: Any) -> tuple[Any, str | None]:
    kind = spec["type"]
    value = _coerce(kind, raw)
    if value is None:
        return None, _(TYPE_ERRORS[kind])
    if kind in ("string", "text"):
        value = value.strip()
        if _CONTROL.search(value) or (kind == "string" and "\n" in value):
            if kind == "string":
                return None, _("Remove control characters and line breaks.")
            return None, _("Remove control characters.")
        limit = spec.get("max_length", DEFAULT_MAX_LENGTH[kind])
        if len(value) > limit:
            return None, _("Use at most %(limit)s characters (this has %(length)s).") % {
                "limit": limit,
                "length": len(value),
            }
        if len(value) < spec.get("min_length", 0):
            return None, _("Use at least %(min)s characters.") % {"min": spec["min_length"]}
    if kind in ("integer", "number"):
        if "minimum" in spec and value < spec["minimum"]:
            return None, _("Enter a value of at least %(min)s.") % {"min": spec["minimum"]}
        if "maximum" in spec and value > spec["maximum"]:
            return None, _("Enter a value of at most %(max)s.") % {"max": spec["maximum"]}
    if "enum" in spec and value not in [_coerce(kind, v) for v in spec["enum"]]:
        return None, _("Choose one of: %(values)s.") % {"values": ", ".join(str(v) for v in spec["enum"])}
    return value, None


def _is_blank(value: Any) -> bool:
    return value is None or value is _MISSING or (isinstance(value, str) and not value.strip())


def parameters_validate(definition: list[dict], data: Any) -> dict[str, Any]:
    """The cleaned parameters, or InvalidInput (400) naming every bad field.

    Unknown names are refused rather than ignored: a typo would otherwise run a
    paid service with a field silently missing.
    """
    if not isinstance(data, dict):
        raise InvalidInput(_("Send the parameters as an object."), fields={"params": [_("Expected an object.")]})
    specs = {spec["name"]: spec for spec in definition}
    fields: dict[str, list[str]] = {name: [_("Unknown parameter.")] for name in data if name not in specs}
    cleaned: dict[str, Any] = {}
    for name, spec in specs.items():
        raw = data.get(name, _MISSING)
        if spec["type"] == "image":  # a file, judged by services/files.py
            if not _is_blank(raw):
                fields[name] = [_("Send the photo as a file (a multipart/form-data upload), not as a value.")]
            continue
        if _is_blank(raw) and not (spec["type"] == "boolean" and raw is not _MISSING and raw is not None):
            if "default" in spec:
                cleaned[name] = spec["default"]
            elif spec.get("required"):
                fields[name] = [_("This field is required.")]
            continue
        value, error = _clean_one(spec, raw)
        if error:
            fields[name] = [error]
        else:
            cleaned[name] = value
    if fields:
        raise InvalidInput(_("Some parameters are invalid."), fields=fields)
    return cleaned


def localized(spec: dict, key: str, lang: str) -> str:
    """A parameter's label or help text in `lang` (English as the fallback)."""
    texts = spec.get(key) or {}
    return texts.get(lang) or texts.get("en") or (spec["name"].replace("_", " ").capitalize() if key == "label" else "")


def enum_choices(spec: dict, lang: str) -> list[tuple[Any, str]]:
    labels = spec.get("enum_labels") or {}
    names = labels.get(lang) or labels.get("en") or {}
    return [(value, names.get(str(value), str(value))) for value in spec.get("enum", [])]
