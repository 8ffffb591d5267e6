"""Meta webhook deliveries (Messenger and Instagram) -> `InboundEvent`s.

`{"object": "page"|"instagram", "entry": [{"id", "time", "messaging"|"standby"|"changes": [...]}]}`:
every entry and every item is read; `standby` items (another app owns the
thread) are marked so the bot stays quiet; Instagram's dashboard test format
`changes: [{"field": "messages", "value": <messaging item>}]` reads like a
`messaging` item. Echoes (`message.is_echo`) have the page as sender and the
customer as recipient: the customer is the recipient.
"""

from __future__ import annotations

from typing import Any

from channels_bot.models.platforms import Platform

from .events import Attachment, InboundEvent, Kind
from .parsing import from_millis, items, obj, text

OBJECTS = {"page": Platform.FACEBOOK_PAGE, "instagram": Platform.INSTAGRAM_BUSINESS}
HANDOVERS = ("pass_thread_control", "take_thread_control", "request_thread_control")


def parse_meta(data: dict[str, Any]) -> list[InboundEvent]:
    platform = OBJECTS.get(text(data.get("object")))
    if platform is None:
        return []
    events: list[InboundEvent] = []
    for entry in items(data.get("entry")):
        channel_id = text(entry.get("id"))
        for item in items(entry.get("messaging")):
            events.append(_item(item, platform, channel_id, standby=False))
        for item in items(entry.get("standby")):
            events.append(_item(item, platform, channel_id, standby=True))
        for change in items(entry.get("changes")):
            value = obj(change.get("value"))
            if text(change.get("field")) in ("messages", "messaging") and value:
                events.append(_item(value, platform, channel_id, standby=False))
            else:
                events.append(_unsupported(platform, channel_id, f"change:{text(change.get('field'))}", change))
    return events


def _attachments(message: dict[str, Any]) -> tuple[Attachment, ...]:
    found = []
    for attachment in items(message.get("attachments")):
        payload = obj(attachment.get("payload"))
        found.append(Attachment(type=text(attachment.get("type")) or "file", url=text(payload.get("url"))))
    return tuple(found)


def _unsupported(platform: str, channel_id: str, what: str, raw: dict[str, Any]) -> InboundEvent:
    return InboundEvent(kind=Kind.UNSUPPORTED, platform=platform, channel_platform_id=channel_id, action=what, raw=raw)


def _item(item: dict[str, Any], platform: str, channel_id: str, *, standby: bool) -> InboundEvent:
    sender, recipient = text(obj(item.get("sender")).get("id")), text(obj(item.get("recipient")).get("id"))
    # Instagram test payloads carry no entry id: the recipient of a customer message is the account.
    channel_id = channel_id or recipient
    common = {
        "platform": platform, "channel_platform_id": channel_id, "timestamp": from_millis(item.get("timestamp")),
        "standby": standby, "raw": item,
    }  # fmt: skip
    message = obj(item.get("message"))
    if message:
        mid = text(message.get("mid"))
        if message.get("is_echo"):
            return InboundEvent(
                kind=Kind.ECHO, customer_platform_id=recipient, event_id=mid, text=text(message.get("text")),
                attachments=_attachments(message), app_id=text(message.get("app_id")), **common,
            )  # fmt: skip
        if message.get("is_deleted") or message.get("is_unsupported"):
            return InboundEvent(kind=Kind.UNSUPPORTED, customer_platform_id=sender, event_id=mid,
                                action="message_deleted" if message.get("is_deleted") else "message_unsupported",
                                **common)  # fmt: skip
        return InboundEvent(
            kind=Kind.MESSAGE, customer_platform_id=sender, event_id=mid, text=text(message.get("text")),
            payload=text(obj(message.get("quick_reply")).get("payload")), attachments=_attachments(message),
            **common,
        )  # fmt: skip
    postback = obj(item.get("postback"))
    if postback:
        # Older postbacks have no mid: the sender and the moment identify the tap.
        key = text(postback.get("mid")) or f"postback:{sender}:{text(item.get('timestamp'))}"
        return InboundEvent(
            kind=Kind.POSTBACK, customer_platform_id=sender, event_id=key, text=text(postback.get("title")),
            payload=text(postback.get("payload")), **common,
        )  # fmt: skip
    delivery = obj(item.get("delivery"))
    if delivery:
        return InboundEvent(
            kind=Kind.DELIVERY, customer_platform_id=sender, watermark=from_millis(delivery.get("watermark")),
            message_ids=tuple(text(m) for m in delivery.get("mids") or () if text(m)), **common,
        )  # fmt: skip
    read = obj(item.get("read"))
    if read:
        mid = text(read.get("mid"))
        return InboundEvent(
            kind=Kind.READ, customer_platform_id=sender, watermark=from_millis(read.get("watermark")),
            message_ids=(mid,) if mid else (), **common,
        )  # fmt: skip
    for action in HANDOVERS:
        control = obj(item.get(action))
        if control:
            return InboundEvent(
                kind=Kind.HANDOVER, customer_platform_id=sender, handover_action=action,
                thread_owner_app_id=text(control.get("new_owner_app_id")),
                previous_owner_app_id=text(control.get("previous_owner_app_id")), **common,
            )  # fmt: skip
    what = next((k for k in item if k not in ("sender", "recipient", "timestamp")), "empty")
    return InboundEvent(kind=Kind.UNSUPPORTED, customer_platform_id=sender, action=what, **common)
