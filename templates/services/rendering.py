"""`{{name}}` placeholders in a template's prompts, filled from validated parameters.

Substitution is one pass over the template text: a value is inserted as it is
and never scanned again, so a user who types `{{secret}}` into a field gets
those characters in the prompt, not another placeholder expanded. Prompts are
plain text for a model; nothing is escaped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiplatform.ai.types import ChatMessage

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render(text: str, values: dict[str, Any]) -> str:
    """`text` with every placeholder replaced; a parameter left out renders empty."""
    return PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1))), text or "")


JSON_INSTRUCTION = (
    "Answer with one JSON object and nothing else: no prose before or after it and no code fence. "
    "It must validate against this JSON Schema:\n{schema}"
)
JSON_WITHOUT_SCHEMA = "Answer with one JSON object and nothing else: no prose before or after it and no code fence."


def prompt_messages(template, values: dict[str, Any]) -> list[ChatMessage]:
    """The system and user messages of one run of `template`."""
    system = render(template.system_prompt, values).strip()
    if template.output_format == "json":
        # Said in the prompt as well as through the provider's JSON mode: not every provider has one.
        schema = template.validation_schema
        rule = JSON_INSTRUCTION.format(schema=json.dumps(schema, ensure_ascii=False)) if schema else JSON_WITHOUT_SCHEMA
        system = f"{system}\n\n{rule}" if system else rule
    messages = [ChatMessage("system", system)] if system else []
    messages.append(ChatMessage("user", render(template.user_prompt_template, values).strip()))
    return messages


def correction_message(error: str) -> ChatMessage:
    """What the model is told after an answer that failed validation."""
    return ChatMessage(
        "user",
        f"Your previous answer could not be used: {error}\n"
        "Reply again with only the corrected JSON object, valid against the schema, and nothing else.",
    )
