"""Custom webhooks: we POST JSON events (a lead, a campaign published) to the
user's URL, signed so the receiver can check they came from us:

    X-AIP-Timestamp: <unix seconds>
    X-AIP-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the signing secret>

A receiver should refuse a timestamp older than a few minutes (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from django.utils.translation import gettext

from .base import AccountInfo, Adapter, Failure, IntegrationError, Lead, PagePayload, Published, Session
from .http import check_user_url, classify, request


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookAdapter(Adapter):
    platform = "custom"
    label = "Custom webhook"
    capabilities = frozenset({"push_lead", "publish_page"})

    def connect(self, data: dict[str, Any]) -> tuple[dict[str, Any], AccountInfo]:
        url = check_user_url(str(data.get("url") or ""), what="webhook URL")
        secret = str(data.get("signing_secret") or "").strip() or secrets.token_urlsafe(32)
        if len(secret) < 16:
            raise IntegrationError("The signing secret must be at least 16 characters (or leave it empty).")
        credentials = {"url": url, "signing_secret": secret}
        return credentials, AccountInfo(name=url.split("//", 1)[-1][:255], metadata={"url": url})

    def verify(self, session: Session) -> AccountInfo:
        self.send(session, "ping", {"message": "Connected to aiplatform."})
        return AccountInfo(name=session.credential("url").split("//", 1)[-1][:255],
                           metadata={"url": session.credential("url")})  # fmt: skip

    def send(self, session: Session, event: str, data: dict[str, Any]) -> None:
        body = json.dumps({"event": event, "sent_at": int(time.time()), "data": data}, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "aiplatform-webhooks/1",
                   "X-AIP-Event": event, "X-AIP-Timestamp": timestamp,
                   "X-AIP-Signature": signature(session.credential("signing_secret"), timestamp, body)}  # fmt: skip
        response = request(
            "POST", session.credential("url"), label=gettext("The webhook"), content=body, headers=headers
        )
        if response.status_code >= 300:
            if response.status_code in (401, 403):
                raise IntegrationError(f"The webhook answered HTTP {response.status_code}: check its signing secret.",
                                       failure=Failure.AUTH, status=response.status_code)  # fmt: skip
            raise classify(response, "The webhook", f"!The webhook answered HTTP {response.status_code}.")

    def push_lead(self, session: Session, lead: Lead) -> Published:
        self.send(session, "lead.created", {"email": lead.email, "first_name": lead.first_name,
                                            "last_name": lead.last_name, "phone": lead.phone, "source": lead.source,
                                            "tags": list(lead.tags), "fields": lead.fields})  # fmt: skip
        return Published(external_id="")

    def publish_page(self, session: Session, page: PagePayload) -> Published:
        self.send(session, "campaign.published", {"title": page.title, "slug": page.slug, "url": page.hosted_url,
                                                  "html": page.html})  # fmt: skip
        return Published(external_id="", external_url=page.hosted_url)
