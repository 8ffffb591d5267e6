"""The model's answer checked against what the template promises.

JSON outputs are parsed (a ```json fence around them is tolerated: models add
one even when told not to) and validated against the template's JSON Schema.
The error text is written for the model, which gets it back on a retry, and is
short enough to show a user.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

_FENCE = re.compile(r"^```[a-zA-Z]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)
MAX_REPORTED_ERRORS = 3


@dataclass(frozen=True)
class OutputCheck:
    ok: bool
    data: Any = None
    error: str = ""


def strip_fence(text: str) -> str:
    text = text.strip()
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text


def _path(error) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"${path}"


def json_check(text: str, schema: dict | None) -> OutputCheck:
    body = strip_fence(text)
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        return OutputCheck(False, error=f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).")
    if schema is None:
        if not isinstance(data, dict):
            return OutputCheck(False, error="it must be a JSON object.")
        return OutputCheck(True, data=data)
    # In document order, so the model (and a person) can walk through them.
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: (_path(e), e.message))
    if errors:
        shown = "; ".join(f"{_path(e)}: {e.message[:200]}" for e in errors[:MAX_REPORTED_ERRORS])
        more = f" (and {len(errors) - MAX_REPORTED_ERRORS} more)" if len(errors) > MAX_REPORTED_ERRORS else ""
        return OutputCheck(False, error=f"it does not match the schema: {shown}{more}.")
    return OutputCheck(True, data=data)


def output_check(template, text: str) -> OutputCheck:
    if not text or not text.strip():
        return OutputCheck(False, error="the answer was empty.")
    if template.output_format == "json":
        return json_check(text, template.validation_schema)
    return OutputCheck(True, data={"text": text.strip()})


def output_for_display(result) -> Any:
    """The stored output with the model's key order: jsonb keeps keys sorted by length, so a
    completed JSON result is read back from the validated answer text when it is there."""
    if result.output_format == "json" and result.result_text and isinstance(result.result_data, dict):
        try:
            data = json.loads(strip_fence(result.result_text))
        except json.JSONDecodeError:
            return result.result_data
        if data == result.result_data:
            return data
    return result.result_data
