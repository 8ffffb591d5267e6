"""Webhook deliveries as the platforms send them (shared/reference/channel-apis.md):
payload builders for Messenger, Instagram, X and LinkedIn, their signers, and
`post_signed` which POSTs a signed delivery to a URL (the tests' Django client
or a real server: the fake platform server and the benchmark use it too).

The signers are written here from the wire format, independently of
`channels_bot.webhooks.signatures`, so a test checks the app against the spec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

META_SECRET = "test-meta-app-secret"
META_VERIFY = "test-meta-verify-token"
META_APP = "1517776481860111"  # our app (META_APP_ID in the tests)
PAGE_INBOX_APP = "263902037430900"
X_SECRET = "test-x-consumer-secret"
LINKEDIN_SECRET = "test-linkedin-client-secret"

_ids = itertools.count(1)


def now_ms() -> int:
    return int(time.time() * 1000)


def next_mid(prefix: str = "m_") -> str:
    return f"{prefix}{next(_ids):08d}"


def body_bytes(payload: dict | bytes) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()


# --- signers ----------------------------------------------------------------------------------


def sign_meta(body: bytes, secret: str = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_x(body: bytes, secret: str = X_SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def sign_linkedin(body: bytes, secret: str = LINKEDIN_SECRET, *, variant: str = "prefixed") -> str:
    """`prefixed`: hex HMAC of "hmacsha256=" + body; `bare`: hex HMAC of the body;
    `header-prefixed`: the bare variant sent as "hmacsha256=<hex>"."""
    if variant == "prefixed":
        return hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return "hmacsha256=" + digest if variant == "header-prefixed" else digest


HEADERS = {"meta": "X-Hub-Signature-256", "x": "x-twitter-webhooks-signature", "linkedin": "X-LI-Signature"}
SIGNERS = {"meta": sign_meta, "x": sign_x, "linkedin": sign_linkedin}


def signed_headers(platform: str, body: bytes, secret: str | None = None) -> dict[str, str]:
    signer = SIGNERS[platform]
    signature = signer(body, secret) if secret is not None else signer(body)
    return {"Content-Type": "application/json", HEADERS[platform]: signature}


# --- Meta (Messenger, Instagram) ------------------------------------------------------------------


def meta_delivery(entries: list[dict], *, object: str = "page") -> dict:
    return {"object": object, "entry": entries}


def meta_entry(page_id: str, messaging: list[dict], *, standby: bool = False) -> dict:
    return {"id": page_id, "time": now_ms(), ("standby" if standby else "messaging"): messaging}


def meta_message(page_id: str, psid: str, text: str = "hi", *, mid: str | None = None, quick_reply: str = "",
                 attachments: list[dict] | None = None, timestamp: int | None = None) -> dict:  # fmt: skip
    message: dict[str, Any] = {"mid": mid or next_mid()}
    if text:
        message["text"] = text
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    if attachments:
        message["attachments"] = attachments
    return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": timestamp or now_ms(),
            "message": message}  # fmt: skip


def meta_postback(page_id: str, psid: str, title: str, payload: str, *, mid: str | None = None) -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": now_ms(),
            "postback": {"mid": mid or next_mid(), "title": title, "payload": payload}}  # fmt: skip


def meta_echo(page_id: str, psid: str, text: str, *, mid: str, app_id: str | int = META_APP) -> dict:
    return {"sender": {"id": page_id}, "recipient": {"id": psid}, "timestamp": now_ms(),
            "message": {"is_echo": True, "app_id": int(app_id), "metadata": "", "mid": mid, "text": text}}  # fmt: skip


def meta_delivery_receipt(page_id: str, psid: str, *, watermark: int, mids: list[str] | None = None) -> dict:
    delivery: dict[str, Any] = {"watermark": watermark}
    if mids is not None:
        delivery["mids"] = mids
    return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": now_ms(), "delivery": delivery}


def meta_read_receipt(page_id: str, psid: str, *, watermark: int | None = None, mid: str = "") -> dict:
    read: dict[str, Any] = {}
    if watermark is not None:
        read["watermark"] = watermark
    if mid:
        read["mid"] = mid
    return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": now_ms(), "read": read}


def meta_handover(page_id: str, psid: str, action: str, *, previous_owner: str = "", new_owner: str = "") -> dict:
    control = {"metadata": "bench"}
    if previous_owner:
        control["previous_owner_app_id"] = previous_owner
    if new_owner:
        control["new_owner_app_id"] = new_owner
    return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": now_ms(), action: control}


def ig_test_changes(ig_id: str, igsid: str, text: str, *, mid: str | None = None) -> dict:
    """The Instagram dashboard's "Test" format: entry[].changes[{field: messages, value}]."""
    value = {"sender": {"id": igsid}, "recipient": {"id": ig_id}, "timestamp": str(now_ms()),
             "message": {"mid": mid or next_mid("aWdf"), "text": text}}  # fmt: skip
    return {"object": "instagram", "entry": [{"id": ig_id, "time": now_ms(),
                                              "changes": [{"field": "messages", "value": value}]}]}  # fmt: skip


# --- X --------------------------------------------------------------------------------------------


def x_dm(for_user_id: str, sender_id: str, recipient_id: str, text: str, *, event_id: str | None = None,
         users: dict[str, dict] | None = None) -> dict:  # fmt: skip
    event = {
        "type": "message_create", "id": event_id or next_mid("EVT"), "created_timestamp": str(now_ms()),
        "message_create": {
            "target": {"recipient_id": recipient_id}, "sender_id": sender_id, "source_app_id": "268278",
            "message_data": {"text": text, "entities": {"hashtags": [], "urls": [], "user_mentions": [],
                                                        "symbols": []}},
        },
    }  # fmt: skip
    return {"for_user_id": for_user_id, "direct_message_events": [event], "users": users or {}}


def x_user(user_id: str, name: str, screen_name: str = "") -> dict:
    return {user_id: {"id": user_id, "name": name, "screen_name": screen_name or name.lower().replace(" ", "_"),
                      "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user_id}.jpg"}}  # fmt: skip


# --- LinkedIn -------------------------------------------------------------------------------------


def linkedin_notification(org_id: str, *, action: str = "COMMENT", notification_id: int | None = None,
                          author: str = "urn:li:person:abc", text: str = "Do you ship to Busan?",
                          post: str = "urn:li:share:9",
                          comment: str = "urn:li:comment:(urn:li:activity:9,77)") -> dict:  # fmt: skip
    decorated_key = "share" if action == "SHARE_MENTION" else "comment"
    return {
        "notificationId": notification_id if notification_id is not None else next(_ids),
        "organizationalEntity": f"urn:li:organization:{org_id}", "action": action, "sourcePost": post,
        "generatedActivity": comment,
        "decoratedGeneratedActivity": {decorated_key: {"entity": comment, "owner": author, "text": text}},
        "lastModifiedAt": now_ms(), "subscriber": "urn:li:person:admin1",
    }  # fmt: skip


def linkedin_delivery(notifications: list[dict]) -> dict:
    return {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": notifications}


# --- sending ---------------------------------------------------------------------------------------


PATHS = {"meta": "/webhooks/meta/", "x": "/webhooks/x/", "linkedin": "/webhooks/linkedin/"}


def post_signed(url: str, platform: str, payload: dict | bytes, *, secret: str | None = None,
                client=None, timeout: float = 10.0):  # fmt: skip
    """POST `payload` to `url` signed as `platform` ("meta", "x", "linkedin") would.

    With `client` (a `django.test.Client`) the request goes through it and its
    response is returned; otherwise through httpx to a real server."""
    body = body_bytes(payload)
    headers = signed_headers(platform, body, secret)
    if client is not None:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
        return client.post(url, data=body, content_type="application/json", **extra)
    import httpx

    return httpx.post(url, content=body, headers=headers, timeout=timeout)


# --- pytest fixtures (import them into a test module) ----------------------------------------------

try:
    import pytest
except ImportError:  # used outside the tests (the benchmark, a fake server)
    pytest = None

if pytest is not None:

    @pytest.fixture
    def webhook_settings(settings):
        """Every platform's webhook secret and our Meta app id set to this module's
        constants (request `fake_platform` first where platform APIs are called:
        it points them at the loopback server, and these secrets win)."""
        settings.META_APP_SECRET = META_SECRET
        settings.META_VERIFY_TOKEN = META_VERIFY
        settings.META_APP_ID = META_APP
        settings.X_CONSUMER_SECRET = X_SECRET
        settings.LINKEDIN_CLIENT_SECRET = LINKEDIN_SECRET
        return settings

    @pytest.fixture
    def answers(monkeypatch):
        """Every `answer_message` enqueued, as (account_id, message_id): the task
        boundary between inbound processing and the bot, recorded instead of run."""
        from channels_bot.tasks.bot import answer_message

        calls: list[tuple[str, str]] = []
        monkeypatch.setattr(answer_message, "delay", lambda *, account_id, message_id: calls.append(
            (account_id, message_id)))  # fmt: skip
        return calls

    @pytest.fixture
    def deliver(client, webhook_settings, django_capture_on_commit_callbacks):
        """POST a signed delivery to our endpoint and run what it enqueued (the
        processing task, eagerly) before returning the response."""

        def post(platform: str, payload: dict | bytes, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return post_signed(PATHS[platform], platform, payload, client=client, **kwargs)

        return post
