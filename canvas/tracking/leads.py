"""Form leads of hosted pages: a visitor submits a form with an email address on a
launched campaign's page, and the lead goes to every integration of the campaign's
account that takes leads (GoHighLevel contacts, Simvoly contacts, a signed custom
webhook), through the builder's job queue (`leads_forward`), so a slow or failing
platform retries there and never holds the visitor.

The tracker posts `{"c": campaign id, "n": form name, "f": {field: value}}` to
POST /t/f/ when a form holding an email field is submitted. Like the collector this
answers 202 whatever it did with the lead (malformed, bot, unknown campaign, no
integration: dropped), except to a flood from one address (429): a page cannot act
on an error, and a public endpoint should not tell a prober which ids are live.
Fields that look like secrets (passwords, card numbers) are never read.
"""

from __future__ import annotations

import json
import logging
import re
from enum import StrEnum
from typing import Any

from django.conf import settings

from accounts.tenancy.context import account_context
from aiplatform import ratelimit
from aiplatform.errors import InvalidInput

from . import bots, targets
from .collect import RATE_WINDOW, Visit
from .payload import Malformed, _uuid

log = logging.getLogger("canvas.tracking")

MAX_FIELDS = 30
MAX_VALUE_CHARS = 500
# Never taken from a form, whatever the page's author named them.
SECRET_FIELD = re.compile(r"pass|card|cc[-_]?num|cvv|cvc|iban|ssn|secret|token|csrf", re.IGNORECASE)
# Usual form field names -> the lead's fields (lead_from in the integrations service).
ALIASES = {
    "email": "email", "e-mail": "email", "email_address": "email", "mail": "email",
    "first_name": "first_name", "firstname": "first_name", "fname": "first_name", "given_name": "first_name",
    "last_name": "last_name", "lastname": "last_name", "lname": "last_name", "family_name": "last_name",
    "phone": "phone", "tel": "phone", "telephone": "phone", "mobile": "phone", "phone_number": "phone",
}  # fmt: skip


class LeadOutcome(StrEnum):
    FORWARDED = "forwarded"
    NO_INTEGRATION = "no_integration"
    RATE_LIMITED = "rate_limited"
    OVERSIZED = "oversized"
    MALFORMED = "malformed"
    BOT = "bot"
    UNKNOWN_CAMPAIGN = "unknown_campaign"


def _fields(raw) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw or len(raw) > MAX_FIELDS:
        raise Malformed("fields")
    fields = {}
    for name, value in raw.items():
        key = str(name).strip().lower()[:64]
        if not key or SECRET_FIELD.search(key) or not isinstance(value, str | int | float):
            continue
        text = str(value).strip()[:MAX_VALUE_CHARS]
        if text:
            fields[ALIASES.get(key, key)] = text
    return fields


def lead_of(fields: dict[str, str], *, form_name: str, slug: str) -> dict:
    """The lead `leads_forward` takes: email and names found under their usual field
    names ("name" split in two when no first name was given), the rest kept as
    custom fields, tagged with the campaign it came from."""
    lead: dict[str, Any] = dict(fields)
    if "first_name" not in lead and (full := lead.pop("name", "")):
        first, _, last = full.partition(" ")
        lead["first_name"] = first
        if last:
            lead.setdefault("last_name", last)
    lead["source"] = f"aiplatform: {slug}"[:100]
    lead["tags"] = [f"campaign:{slug}"[:50]] + ([f"form:{form_name}"[:50]] if form_name else [])
    return lead


def lead_collect(*, body: bytes | None, visit: Visit) -> LeadOutcome:
    from canvas.models.campaigns import Campaign
    from canvas.services.integrations.service import lead_from, leads_forward

    if not ratelimit.hit(f"track:lead:{visit.ip or 'unknown'}", limit=settings.TRACKING_LEADS_PER_MINUTE_PER_IP,
                         window=RATE_WINDOW).allowed:  # fmt: skip
        return LeadOutcome.RATE_LIMITED
    if body is None:
        return LeadOutcome.OVERSIZED
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise Malformed("not an object")
        campaign_id = _uuid(data.get("c"))
        fields = _fields(data.get("f"))
        form_name = str(data.get("n") or "")[:50]
    except (ValueError, Malformed):
        return LeadOutcome.MALFORMED
    if bots.is_bot(visit.user_agent):
        return LeadOutcome.BOT
    target = targets.target_for(campaign_id)
    if target is None:
        return LeadOutcome.UNKNOWN_CAMPAIGN
    with account_context(target.account_id):
        slug = Campaign.objects.filter(pk=campaign_id).values_list("slug", flat=True).first() or "campaign"
    lead = lead_of(fields, form_name=form_name, slug=slug)
    try:
        lead_from(lead)
    except InvalidInput:  # no usable email address: not a lead
        return LeadOutcome.MALFORMED
    queued = leads_forward(account_id=target.account_id, lead=lead)
    return LeadOutcome.FORWARDED if queued else LeadOutcome.NO_INTEGRATION
