"""A small JSON value that validates against a JSON Schema, so the offline model
can answer `json_output` requests (the service catalog runs offline with it).

It satisfies what schemas of prompt templates use (identifiers, addresses and
links it cannot know are NO_DATA, never a made-up value): types, required properties,
enum and const, string lengths and formats, numeric bounds and multiples, array
sizes, local $ref, allOf / anyOf / oneOf (first branch). It does not attempt
`pattern` or `not`; callers validate the result anyway.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

# What the offline model cannot know it says so, rather than invent data that looks
# real (a placeholder address, an all-zero id): these formats get NO_DATA.
NO_DATA = "not available from the offline model"
_FORMATS = {
    "date": lambda: date.today().isoformat(),
    "date-time": lambda: datetime.now(UTC).replace(microsecond=0).isoformat(),
    "time": lambda: "12:00:00Z",
}
_NO_DATA_FORMATS = frozenset({"email", "idn-email", "uri", "url", "iri", "uri-reference", "uuid", "hostname",
                              "idn-hostname", "ipv4", "ipv6"})  # fmt: skip
_MAX_DEPTH = 24


def instance_for(schema: dict | bool, text: str) -> Any:
    """A value valid under `schema`; strings carry `text` (cut to fit)."""
    return _build(schema, text, schema if isinstance(schema, dict) else {}, 0, 0)


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _merge(schemas: list[dict]) -> dict:
    merged: dict = {}
    for schema in schemas:
        for key, value in schema.items():
            if key == "properties":
                merged.setdefault("properties", {}).update(value)
            elif key == "required":
                merged["required"] = sorted(set(merged.get("required", [])) | set(value))
            else:
                merged.setdefault(key, value)
    return merged


def _type_of(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind:
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return "string"


def _build(schema: dict | bool, text: str, root: dict, depth: int, variant: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return text if schema is not False else None
    if "$ref" in schema:
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return _build(_merge([rest, _resolve(schema["$ref"], root)]), text, root, depth + 1, variant)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][variant % len(schema["enum"])]
    if "allOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return _build(_merge([rest, *schema["allOf"]]), text, root, depth + 1, variant)
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            rest = {k: v for k, v in schema.items() if k != key}
            return _build(_merge([rest, schema[key][0]]), text, root, depth + 1, variant)
    kind = _type_of(schema)
    if kind == "object":
        return _object(schema, text, root, depth)
    if kind == "array":
        return _array(schema, text, root, depth)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer", variant=variant)
    if kind == "boolean":
        return variant % 2 == 0
    if kind == "null":
        return None
    return _string(schema, text, variant)


def _object(schema: dict, text: str, root: dict, depth: int) -> dict:
    properties = schema.get("properties") or {}
    names = list(schema.get("required") or [])
    for name in properties:  # reach minProperties with optional properties, in schema order
        if len(names) >= schema.get("minProperties", 0):
            break
        if name not in names:
            names.append(name)
    extra = schema.get("additionalProperties", True)
    return {name: _build(properties.get(name, extra if isinstance(extra, dict) else {}), text, root, depth + 1, 0)
            for name in names}  # fmt: skip


def _array(schema: dict, text: str, root: dict, depth: int) -> list:
    prefix = schema.get("prefixItems") or []
    items = schema.get("items", {})
    if isinstance(items, list):  # draft 4-7 tuple form
        prefix, items = items, schema.get("additionalItems", {})
    count = max(schema.get("minItems", 0), len(prefix))
    if count == 0 and depth < 3:
        count = 1  # one example item shows the shape; deeper (recursive) lists stay empty
    count = min(count, schema.get("maxItems", count))
    return [_build(prefix[i] if i < len(prefix) else items, text, root, depth + 1, i) for i in range(count)]


def _number(schema: dict, *, integer: bool, variant: int) -> int | float:
    low = schema.get("minimum")
    if "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
        bound = schema["exclusiveMinimum"]
        low = max(low, bound + (1 if integer else 1e-6)) if low is not None else bound + (1 if integer else 1e-6)
    high = schema.get("maximum")
    if "exclusiveMaximum" in schema and not isinstance(schema["exclusiveMaximum"], bool):
        bound = schema["exclusiveMaximum"]
        high = min(high, bound - (1 if integer else 1e-6)) if high is not None else bound - (1 if integer else 1e-6)
    value = (low if low is not None else (min(0, high) if high is not None else 0)) + variant
    if high is not None and value > high:
        value = high
    step = schema.get("multipleOf")
    if step:
        value = math.ceil(value / step) * step
        if high is not None and value > high:
            value = math.floor(high / step) * step
    return int(math.ceil(value)) if integer else float(value)


def _string(schema: dict, text: str, variant: int) -> str:
    fmt = _FORMATS.get(schema.get("format", ""))
    if schema.get("format") in _NO_DATA_FORMATS:
        value = NO_DATA
    else:
        value = fmt() if fmt else (text or "offline")
    if variant:
        value = f"{value} ({variant + 1})"
    if "maxLength" in schema:
        value = value[: schema["maxLength"]].rstrip() or value[: schema["maxLength"]]
    minimum = schema.get("minLength", 0)
    if len(value) < minimum:
        value += "." * (minimum - len(value))
    return value
