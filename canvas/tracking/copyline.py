"""The queued form of an event: one line of PostgreSQL's COPY text format.

The collector formats each event once, as the line the writer will COPY into its
staging table, so the writer does no per-event Python work: it joins a batch's
lines and streams them to PostgreSQL. Text fields are escaped (backslash, tab,
newline, carriage return; NUL removed: PostgreSQL text cannot hold it), NULL is
`\\N`. `decode_line` reads a line back (tests, inspection).
"""

from __future__ import annotations

import json
import re

STAGING_COLUMNS = (
    "id", "account_id", "campaign_id", "component_id", "event_type", "event_data", "session_id", "user_agent",
    "ip_address", "referrer", "url", "utm_source", "utm_medium", "utm_campaign", "click_id", "country", "region",
    "city", "created_at", "components", "conv_type", "conv_value", "conv_currency", "conv_source", "conv_medium",
)  # fmt: skip
EVENT_COLUMNS = STAGING_COLUMNS[:19]
TABS = len(STAGING_COLUMNS) - 1

_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})
_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


def staging_row(row: dict) -> tuple:
    conversion = row.get("conversion") or {}
    components = row.get("components") or []
    return (
        row["id"], row["account_id"], row["campaign_id"], row.get("component_id"), row["event_type"],
        json.dumps(row.get("event_data") or {}, separators=(",", ":")), row.get("session_id", ""),
        row.get("user_agent", ""), row.get("ip_address"), row.get("referrer", ""), row.get("url", ""),
        row.get("utm_source", ""), row.get("utm_medium", ""), row.get("utm_campaign", ""), row.get("click_id", ""),
        row.get("country", ""), row.get("region", ""), row.get("city", ""), row["created_at"],
        "{" + ",".join(components) + "}", conversion.get("type"), conversion.get("value"),
        conversion.get("currency", ""), conversion.get("source", ""), conversion.get("medium", ""),
    )  # fmt: skip


def _field(value) -> str:
    return "\\N" if value is None else str(value).translate(_ESCAPE)


def encode_line(row: dict) -> bytes:
    return ("\t".join(_field(v) for v in staging_row(row)) + "\n").encode()


def line_valid(line: bytes) -> bool:
    """Shaped like a line we made: one newline, at its end, and every column."""
    return line.endswith(b"\n") and line.count(b"\n") == 1 and line.count(b"\t") == TABS


def decode_line(line: bytes) -> dict:
    values = line.decode().rstrip("\n").split("\t")
    out = {}
    for name, raw in zip(STAGING_COLUMNS, values, strict=True):
        out[name] = None if raw == "\\N" else _UNESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), raw)
    out["event_data"] = json.loads(out["event_data"])
    out["components"] = [c for c in out["components"].strip("{}").split(",") if c]
    if out["conv_type"] is not None:
        out["conversion"] = {k: out[f"conv_{k}"] for k in ("type", "value", "currency", "source", "medium")}
        out["conversion"]["type"] = out.pop("conv_type")
    for key in ("conv_type", "conv_value", "conv_currency", "conv_source", "conv_medium"):
        out.pop(key, None)
    return out
