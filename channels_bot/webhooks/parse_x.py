"""X Account Activity deliveries -> `InboundEvent`s.

`{"for_user_id": "<our profile>", "direct_message_events": [...], "users": {...}}`.
A `message_create` whose sender is `for_user_id` was sent by the profile itself:
an ECHO (our own send, or a human replying from X). The `users` map names the
customer. `direct_message_mark_read_events` are read receipts.
"""

from __future__ import annotations

from typing import Any

from channels_bot.models.platforms import Platform

from .events import Attachment, InboundEvent, Kind
from .parsing import from_millis, items, obj, text

MEDIA_TYPES = {"photo": "image", "animated_gif": "video", "video": "video"}


def parse_x(data: dict[str, Any]) -> list[InboundEvent]:
    us = text(data.get("for_user_id"))
    if not us:
        return []
    users = obj(data.get("users"))
    events: list[InboundEvent] = []
    for event in items(data.get("direct_message_events")):
        events.append(_dm(event, us, users))
    for read in items(data.get("direct_message_mark_read_events")):
        events.append(InboundEvent(
            kind=Kind.READ, platform=Platform.TWITTER_PROFILE, channel_platform_id=us,
            customer_platform_id=text(read.get("sender_id")),
            watermark=from_millis(read.get("created_timestamp")),
            message_ids=tuple(i for i in [text(read.get("last_read_event_id"))] if i), raw=read,
        ))  # fmt: skip
    for key, value in data.items():
        if key.endswith("_events") and key not in ("direct_message_events", "direct_message_mark_read_events"):
            count = len(value) if isinstance(value, list) else 1
            for _ in range(count):
                events.append(InboundEvent(kind=Kind.UNSUPPORTED, platform=Platform.TWITTER_PROFILE,
                                           channel_platform_id=us, action=key))  # fmt: skip
    return events


def _dm(event: dict[str, Any], us: str, users: dict[str, Any]) -> InboundEvent:
    common = {"platform": Platform.TWITTER_PROFILE, "channel_platform_id": us, "raw": event}
    if text(event.get("type")) != "message_create":
        return InboundEvent(kind=Kind.UNSUPPORTED, action=text(event.get("type")) or "dm_event", **common)
    create = obj(event.get("message_create"))
    sender = text(create.get("sender_id"))
    recipient = text(obj(create.get("target")).get("recipient_id"))
    data = obj(create.get("message_data"))
    media = obj(obj(data.get("attachment")).get("media"))
    attachments = ()
    if media:
        kind = MEDIA_TYPES.get(text(media.get("type")), "file")
        attachments = (Attachment(type=kind, url=text(media.get("media_url_https")) or text(media.get("url"))),)
    echo = sender == us
    customer = recipient if echo else sender
    profile = obj(users.get(customer))
    return InboundEvent(
        kind=Kind.ECHO if echo else Kind.MESSAGE, customer_platform_id=customer, event_id=text(event.get("id")),
        text=text(data.get("text")), payload=text(obj(data.get("quick_reply_response")).get("metadata")),
        attachments=attachments, timestamp=from_millis(event.get("created_timestamp")),
        app_id=text(create.get("source_app_id")), customer_name=text(profile.get("name")),
        customer_picture_url=text(profile.get("profile_image_url_https")), **common,
    )  # fmt: skip
