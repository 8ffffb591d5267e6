"""What a generation must answer, checked with JSON Schema (jsonschema, as the
paid services check their outputs), and an incremental scanner that yields each
component object of a streamed answer as soon as its closing brace arrives."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from canvas.models import ComponentType

COMPONENT_SCHEMA: dict = {
    "type": "object",
    "required": ["name", "component_type", "html"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "component_type": {"type": "string", "enum": list(ComponentType.values)},
        "html": {"type": "string", "minLength": 1, "maxLength": 60000},
        "css": {"type": "string", "maxLength": 30000},
        "props": {"type": "object"},
    },
}
GENERATION_SCHEMA: dict = {
    "type": "object",
    "required": ["components"],
    "properties": {"components": {"type": "array", "minItems": 1, "maxItems": 12, "items": COMPONENT_SCHEMA}},
}
MAX_REPORTED_ERRORS = 3
_FENCE = re.compile(r"^```[a-zA-Z]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)


@dataclass(frozen=True)
class Check:
    ok: bool
    data: Any = None
    error: str = ""


def _path(error) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def json_check(text: str, schema: dict) -> Check:
    """Parse (a ```json fence tolerated) and validate; the error is written for the model's retry."""
    body = (text or "").strip()
    if match := _FENCE.match(body):
        body = match.group(1).strip()
    if not body:
        return Check(False, error="the answer was empty.")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        return Check(False, error=f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).")
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: (_path(e), e.message))
    if errors:
        shown = "; ".join(f"{_path(e)}: {e.message[:200]}" for e in errors[:MAX_REPORTED_ERRORS])
        return Check(False, error=f"it does not match the schema: {shown}.")
    return Check(True, data=data)


_ITEM_VALIDATOR = Draft202012Validator(COMPONENT_SCHEMA)


def item_check(item: Any) -> bool:
    return _ITEM_VALIDATOR.is_valid(item)


class ComponentScanner:
    """Feed text pieces; get back every complete object of the `components` array.

    Tracks strings and escapes, so braces inside HTML attribute values or text do
    not confuse it. Objects are yielded in order; the whole answer is still
    validated at the end (the scanner only makes them appear early)."""

    def __init__(self) -> None:
        self._buf: list[str] = []
        self._text = ""
        self._pos = 0
        self._in_array = False
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._start = -1

    def feed(self, piece: str) -> list[dict]:
        self._text += piece
        found: list[dict] = []
        text = self._text
        if not self._in_array:
            match = re.search(r'"components"\s*:\s*\[', text)
            if not match:
                return found
            self._in_array = True
            self._pos = match.end()
        i = self._pos
        while i < len(text):
            ch = text[i]
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif ch == "\\":
                    self._escape = True
                elif ch == '"':
                    self._in_string = False
            elif ch == '"':
                self._in_string = True
            elif ch == "{":
                if self._depth == 0:
                    self._start = i
                self._depth += 1
            elif ch == "}":
                self._depth -= 1
                if self._depth == 0 and self._start >= 0:
                    try:
                        value = json.loads(text[self._start : i + 1])
                    except json.JSONDecodeError:
                        value = None
                    if isinstance(value, dict):
                        found.append(value)
                    self._start = -1
            elif ch == "]" and self._depth == 0:
                self._in_array = False
                self._pos = len(text) + 1
                self._text = ""
                return found
            i += 1
        self._pos = i
        return found
