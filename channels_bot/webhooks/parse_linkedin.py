"""LinkedIn organization social-action notifications -> `InboundEvent`s.

`{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [...]}`.
LinkedIn has no page messaging API: a comment on one of the page's posts, or a
mention of the page in a member's post, is the customer's "message", and the
reply is a comment on it (`reply_target`, `source_post`). The dedupe key is
`notificationId`. A comment by the page itself (`ADMIN_COMMENT`) is an ECHO.
Likes, shares, edits and deletions are recorded as unsupported.
"""

from __future__ import annotations

from typing import Any

from channels_bot.models.platforms import Platform

from .events import InboundEvent, Kind
from .parsing import from_millis, items, obj, text

NOTIFICATION_TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"
ORGANIZATION_URN = "urn:li:organization:"
CUSTOMER_ACTIONS = {"COMMENT", "SHARE_MENTION"}


def organization_id(urn: str) -> str:
    """`urn:li:organization:123` -> `123` (a bare id stays as it is)."""
    return urn[len(ORGANIZATION_URN) :] if urn.startswith(ORGANIZATION_URN) else urn


def parse_linkedin(data: dict[str, Any]) -> list[InboundEvent]:
    kind = text(data.get("type"))
    if kind and kind != NOTIFICATION_TYPE:
        return []
    return [_notification(n) for n in items(data.get("notifications"))]


def _activity(notification: dict[str, Any]) -> tuple[str, str]:
    """(who wrote it, what they wrote) from the decorated activity, whichever shape it has."""
    decorated = obj(notification.get("decoratedGeneratedActivity"))
    for key in ("comment", "share", "post", "mention"):
        activity = obj(decorated.get(key))
        if activity:
            author = text(activity.get("owner")) or text(activity.get("actor")) or text(activity.get("author"))
            body = activity.get("text")
            if isinstance(body, dict):
                body = body.get("text")
            body = text(body) or text(obj(activity.get("message")).get("text")) or text(activity.get("commentary"))
            return author, body
    return "", ""


def _notification(notification: dict[str, Any]) -> InboundEvent:
    action = text(notification.get("action"))
    organization = organization_id(text(notification.get("organizationalEntity")))
    generated = text(notification.get("generatedActivity"))
    source_post = text(notification.get("sourcePost"))
    author, body = _activity(notification)
    common = {
        "platform": Platform.LINKEDIN_PAGE, "channel_platform_id": organization,
        "event_id": text(notification.get("notificationId")), "action": action,
        "timestamp": from_millis(notification.get("lastModifiedAt")), "raw": notification,
    }  # fmt: skip
    if action in CUSTOMER_ACTIONS:
        # A mention lives in the member's own post: the reply is a comment on that post.
        post = source_post if action == "COMMENT" else (generated or source_post)
        return InboundEvent(
            kind=Kind.COMMENT, customer_platform_id=author, text=body, reply_target=generated,
            source_post=post, **common,
        )  # fmt: skip
    if action == "ADMIN_COMMENT":
        return InboundEvent(kind=Kind.ECHO, customer_platform_id="", text=body, reply_target=generated,
                            source_post=source_post, **common)  # fmt: skip
    return InboundEvent(kind=Kind.UNSUPPORTED, customer_platform_id=author, **common)
