"""The tracker's wire format and its validation.

One event per request, a JSON object with short keys (Plausible's style):

    {"c": campaign id, "t": "view" | "click" | "form_submit" | "conversion",
     "n": name (≤ 120 chars), "u": page URL, "r": referrer,
     "cp": component id, "cs": [component ids on the page] (views),
     "v": value, "cur": "EUR" (conversions),
     "p": {prop: str | number | bool} (≤ 30), "utm": {"source", "medium", "campaign", "term", "content"},
     "ck": {"gclid" | "fbclid" | "msclkid" | "ttclid" | "li_fat_id" | "twclid": value}, "w": screen width}

Anything else about the object is ignored; anything wrong with these keys makes
the whole event malformed (`parse` returns None): the collector drops it, it does
not guess.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

PAGE_EVENTS = ("view", "click", "form_submit", "conversion")
CLICK_IDS = ("gclid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid")
UTM_KEYS = ("source", "medium", "campaign", "term", "content")

MAX_NAME = 120  # Plausible's limit on event and property names
MAX_PROPS = 30
MAX_PROP_VALUE = 500
MAX_URL = 2000
MAX_UTM = 100  # the columns' width
MAX_CLICK_ID = 255
MAX_COMPONENTS = 100
MAX_VALUE = Decimal("9999999999.99")  # DECIMAL(12,2)
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


@dataclass(frozen=True)
class TrackerEvent:
    campaign_id: str
    event_type: str
    name: str = ""
    url: str = ""
    referrer: str = ""
    component_id: str | None = None
    components: tuple[str, ...] = ()
    value: Decimal | None = None
    currency: str = ""
    props: dict = field(default_factory=dict)
    utm: dict = field(default_factory=dict)
    click_id_type: str = ""
    click_id: str = ""
    screen_width: int | None = None


class Malformed(ValueError):
    pass


def _uuid(value) -> str:
    if not isinstance(value, str) or len(value) > 36:
        raise Malformed("not an id")
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise Malformed("not an id") from exc


def _text(data: dict, key: str, limit: int) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise Malformed(key)
    return value


def _value(raw) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise Malformed("v")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise Malformed("v")
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise Malformed("v") from exc
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise Malformed("v")
    return value


def _props(raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_PROPS:
        raise Malformed("p")
    out = {}
    for key, value in raw.items():
        if not key or len(key) > MAX_NAME:
            raise Malformed("p")
        if isinstance(value, str):
            if len(value) > MAX_PROP_VALUE:
                raise Malformed("p")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise Malformed("p")
        elif not isinstance(value, bool | int) or (isinstance(value, int) and abs(value) > 2**53):
            raise Malformed("p")
        out[key] = value
    return out


def _utm(raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Malformed("utm")
    out = {}
    for key in UTM_KEYS:
        value = raw.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise Malformed("utm")
        out[key] = value[:MAX_UTM]  # long tags are cut, not refused: they come from ad links
    return out


def _click_id(raw) -> tuple[str, str]:
    """The first click id present, in CLICK_IDS order."""
    if raw is None:
        return "", ""
    if not isinstance(raw, dict):
        raise Malformed("ck")
    for key in CLICK_IDS:
        value = raw.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > MAX_CLICK_ID:
            raise Malformed("ck")
        return key, value
    return "", ""


def parse(body: bytes) -> TrackerEvent | None:
    """The event in `body`, or None when it is malformed in any way."""
    if b"\\u0000" in body:  # PostgreSQL text and jsonb cannot hold NUL
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate (\ud800) is not text
    except (UnicodeEncodeError, ValueError, RecursionError):
        return None
    try:
        return _event(data)
    except Malformed:
        return None


def _event(data: dict) -> TrackerEvent:
    event_type = data.get("t", "view")
    if event_type not in PAGE_EVENTS:
        raise Malformed("t")
    component = data.get("cp")
    components = data.get("cs") or []
    if not isinstance(components, list) or len(components) > MAX_COMPONENTS:
        raise Malformed("cs")
    width = data.get("w")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or not 0 < width < 100_000):
        raise Malformed("w")
    value = _value(data.get("v"))
    currency = _text(data, "cur", 3)
    if currency and not _CURRENCY.match(currency):
        raise Malformed("cur")
    click_type, click_id = _click_id(data.get("ck"))
    return TrackerEvent(
        campaign_id=_uuid(data.get("c")),
        event_type=event_type,
        name=_text(data, "n", MAX_NAME),
        url=_text(data, "u", MAX_URL),
        referrer=_text(data, "r", MAX_URL),
        component_id=_uuid(component) if component not in (None, "") else None,
        components=tuple(dict.fromkeys(_uuid(c) for c in components)),
        value=value if event_type == "conversion" else None,
        currency=currency.upper() if event_type == "conversion" else "",
        props=_props(data.get("p")),
        utm=_utm(data.get("utm")),
        click_id_type=click_type,
        click_id=click_id,
        screen_width=width,
    )
