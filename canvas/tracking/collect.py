"""The collector: from one anonymous request to one queued event, or nothing.

Checks in order of cost: the client address's rate (Redis), the body's size,
its shape, the user agent (bots), the campaign (in-process cache). A dropped
event is counted by reason in the log at DEBUG, and never raises: the endpoint
answers 202 whatever happened, except to a flood (429).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from aiplatform import ratelimit

from . import bots, geo, stream, targets, visitors
from .payload import TrackerEvent, parse

log = logging.getLogger("canvas.tracking")

RATE_WINDOW = 60
MAX_USER_AGENT_STORED = 512

# Where a click id says the visitor came from, when no utm_source/utm_medium do.
CLICK_ID_SOURCES = {
    "gclid": ("google", "cpc"),
    "msclkid": ("bing", "cpc"),
    "fbclid": ("facebook", "paid_social"),
    "ttclid": ("tiktok", "paid_social"),
    "li_fat_id": ("linkedin", "paid_social"),
    "twclid": ("twitter", "paid_social"),
}


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    RATE_LIMITED = "rate_limited"
    OVERSIZED = "oversized"
    MALFORMED = "malformed"
    BOT = "bot"
    UNKNOWN_CAMPAIGN = "unknown_campaign"


@dataclass(frozen=True)
class Visit:
    """What the request tells about its sender (before any of it is reduced)."""

    ip: str
    user_agent: str

    @classmethod
    def from_request(cls, request) -> Visit:
        return cls(ip=visitors.client_ip(request.META), user_agent=request.META.get("HTTP_USER_AGENT", ""))


def rate_limited(visit: Visit) -> ratelimit.RateLimitResult:
    return ratelimit.hit(
        f"track:ip:{visit.ip or 'unknown'}", limit=settings.TRACKING_EVENTS_PER_MINUTE_PER_IP, window=RATE_WINDOW
    )


def attribution(*, utm: dict, click_id_type: str, referrer: str, url: str) -> tuple[str, str]:
    """(source, medium) of a visit: its UTM tags, else its click id, else the
    referring site, else direct."""
    source, medium = utm.get("source", ""), utm.get("medium", "")
    if not source and click_id_type:
        source, medium = CLICK_ID_SOURCES[click_id_type][0], medium or CLICK_ID_SOURCES[click_id_type][1]
    if not source and referrer:
        ref_host, page_host = urlsplit(referrer).hostname or "", urlsplit(url).hostname or ""
        if ref_host and ref_host != page_host:
            source, medium = ref_host.removeprefix("www."), medium or "referral"
    if not source:
        return "(direct)", medium or "(none)"
    return source[:100], (medium or "(none)")[:100]


def _schedule_flush() -> None:
    from .tasks import events_flush

    # robust: a broker outage must not fail the request; beat flushes later.
    transaction.on_commit(
        lambda: events_flush.apply_async(countdown=settings.TRACKING_FLUSH_DELAY_SECONDS), robust=True
    )


def _enqueue(row: dict) -> None:
    if stream.enqueue(row):
        _schedule_flush()


def _base_row(
    *, target: targets.Target, event_type: str, visit: Visit, now: datetime, component_id: str | None
) -> dict:
    place = geo.locate(visit.ip)
    return {
        "id": str(uuid.uuid4()),
        "account_id": target.account_id,
        "campaign_id": target.campaign_id,
        "component_id": component_id if component_id in target.components else None,
        "event_type": event_type,
        "session_id": visitors.visitor_hash(campaign_id=target.campaign_id, ip=visit.ip, user_agent=visit.user_agent),
        "user_agent": visit.user_agent[:MAX_USER_AGENT_STORED],
        "ip_address": visitors.truncate_ip(visit.ip),
        "country": place.country,
        "region": place.region,
        "city": place.city,
        "created_at": now.isoformat(),
    }


def page_row(event: TrackerEvent, *, target: targets.Target, visit: Visit, now: datetime) -> dict:
    """The queued form of a tracker event: the writer's columns, plus `components`
    (the page's components, for their view counters) and `conversion`."""
    row = _base_row(target=target, event_type=event.event_type, visit=visit, now=now, component_id=event.component_id)
    components = [c for c in event.components if c in target.components]
    data: dict = {}
    if event.name:
        data["name"] = event.name
    if event.props:
        data["props"] = event.props
    if components:
        data["components"] = components
    if event.click_id_type:
        data["click_id_type"] = event.click_id_type
    for key in ("term", "content"):
        if event.utm.get(key):
            data[f"utm_{key}"] = event.utm[key]
    if event.screen_width:
        data["screen_width"] = event.screen_width
    row.update(
        event_data=data,
        referrer=event.referrer,
        url=event.url,
        utm_source=event.utm.get("source", ""),
        utm_medium=event.utm.get("medium", ""),
        utm_campaign=event.utm.get("campaign", ""),
        click_id=event.click_id,
        components=components if event.event_type == "view" else [],
    )
    if event.event_type == "conversion":
        source, medium = attribution(
            utm=event.utm, click_id_type=event.click_id_type, referrer=event.referrer, url=event.url
        )
        value = event.value if event.value is not None else 0
        currency = event.currency or (settings.TRACKING_DEFAULT_CURRENCY if value else "")
        row["conversion"] = {
            "type": (event.name or "conversion")[:50], "value": str(value), "currency": currency,
            "source": source, "medium": medium,
        }  # fmt: skip
    return row


def page_event_collect(*, body: bytes | None, visit: Visit, now: datetime | None = None) -> Outcome:
    """One tracker POST (body None: it was larger than TRACKING_MAX_BODY_BYTES)."""
    if not rate_limited(visit).allowed:
        return Outcome.RATE_LIMITED
    if body is None:
        return Outcome.OVERSIZED
    event = parse(body)
    if event is None:
        return Outcome.MALFORMED
    if bots.is_bot(visit.user_agent):
        return Outcome.BOT
    target = targets.target_for(event.campaign_id)
    if target is None:
        return Outcome.UNKNOWN_CAMPAIGN
    _enqueue(page_row(event, target=target, visit=visit, now=now or datetime.now(UTC)))
    return Outcome.ACCEPTED


def email_event_collect(
    *, kind: str, campaign_id: str, component_id: str | None, recipient: str, url: str, visit: Visit
) -> Outcome:
    """An email open (the pixel) or click (the redirect), from a signed link.

    No bot filter on opens: mail clients fetch images through proxies whose user
    agents look like bots (GoogleImageProxy) and those fetches are the opens."""
    if not rate_limited(visit).allowed:
        return Outcome.RATE_LIMITED
    if kind == "email_click" and bots.is_bot(visit.user_agent):
        return Outcome.BOT
    target = targets.target_for(campaign_id)
    if target is None:
        return Outcome.UNKNOWN_CAMPAIGN
    row = _base_row(target=target, event_type=kind, visit=visit, now=datetime.now(UTC), component_id=component_id)
    data = {"recipient": recipient} if recipient else {}
    row.update(
        event_data=data, referrer="", url=url, utm_source="", utm_medium="email", utm_campaign="", click_id="",
        components=[],
    )  # fmt: skip
    _enqueue(row)
    return Outcome.ACCEPTED
