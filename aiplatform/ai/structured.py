"""Structured (JSON) answers: parse and validate a model's answer against a JSON
Schema, and the corrective message that shows the model its error.

The same rules as the paid services' output check (templates/services/
validation.py): a ```json fence is tolerated, errors are listed in document
order, short enough for the model and a user. Products below `templates` in no
way depend on it, so it lives in the gateway layer where every product can use
it; `complete_json` adds the one corrective retry around `gateway.complete`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator

from .types import ChatMessage

_FENCE = re.compile(r"^```[a-zA-Z]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)
MAX_REPORTED_ERRORS = 3


@dataclass(frozen=True)
class JsonCheck:
    ok: bool = False
    data: Any = None
    error: str = ""


def _path(error) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def json_check(text: str, schema: dict | None) -> JsonCheck:
    if not text or not text.strip():
        return JsonCheck(False, error="the answer was empty.")
    body = text.strip()
    match = _FENCE.match(body)
    body = match.group(1).strip() if match else body
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        return JsonCheck(False, error=f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).")
    if schema is None:
        return JsonCheck(True, data=data) if isinstance(data, dict) else JsonCheck(False, error="it must be an object.")
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: (_path(e), e.message))
    if errors:
        shown = "; ".join(f"{_path(e)}: {e.message[:200]}" for e in errors[:MAX_REPORTED_ERRORS])
        more = f" (and {len(errors) - MAX_REPORTED_ERRORS} more)" if len(errors) > MAX_REPORTED_ERRORS else ""
        return JsonCheck(False, error=f"it does not match the schema: {shown}{more}.")
    return JsonCheck(True, data=data)


def correction_message(error: str) -> ChatMessage:
    return ChatMessage(
        "user",
        f"Your previous answer could not be used: {error}\n"
        "Reply again with only the corrected JSON object, valid against the schema, and nothing else.",
    )


@dataclass
class JsonAnswer:
    ok: bool = False
    data: Any = None
    error: str = ""
    text: str = ""
    model: str = ""
    provider: str = ""
    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    usage_record_id: Any = None  # the first call's record: the caller adds its charge there
    answers: list[str] = field(default_factory=list)


def complete_json(*, messages: list, schema: dict, attempts: int = 2, **gateway_kwargs) -> JsonAnswer:
    """`gateway.complete` asking for JSON valid against `schema`, with `attempts - 1`
    corrective retries. Charged nothing itself (`charged=0`): the caller charges once
    when the answer is valid. Provider errors propagate."""
    from . import gateway

    answer = JsonAnswer()
    history = list(messages)
    for attempt in range(1, attempts + 1):
        completion = gateway.complete(
            messages=history, json_schema=schema, charged=Decimal("0"), generation=attempt == 1, **gateway_kwargs
        )
        answer.attempts = attempt
        if attempt == 1:
            answer.usage_record_id = completion.usage_record_id
        answer.tokens_in += completion.usage.tokens_in
        answer.tokens_out += completion.usage.tokens_out
        answer.model, answer.provider, answer.text = completion.model, completion.provider, completion.text
        answer.answers.append(completion.text)
        check = json_check(completion.text, schema)
        if check.ok:
            answer.ok, answer.data, answer.error = True, check.data, ""
            return answer
        answer.error = check.error
        history = [*history, ChatMessage("assistant", completion.text), correction_message(check.error)]
    return answer
