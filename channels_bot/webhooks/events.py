"""Inbound events in one shape, whatever platform sent them.

The parsers (`webhooks/parse_<vendor>.py`) turn one verified delivery into a
list of these; `services/inbound.py` acts on them. Nothing here is trusted
for the tenant: `channel_platform_id` only finds a stored channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    MESSAGE = "message"  # a customer wrote (text, quick-reply tap, attachment)
    POSTBACK = "postback"  # a customer tapped a button
    ECHO = "echo"  # the page's own message (ours, or a human in the platform's inbox)
    DELIVERY = "delivery"
    READ = "read"
    HANDOVER = "handover"  # Messenger thread control changed hands
    COMMENT = "comment"  # LinkedIn comment or mention on an organization post
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Attachment:
    type: str  # image, video, audio, file, ...
    url: str = ""


@dataclass(frozen=True)
class InboundEvent:
    kind: Kind
    platform: str  # models.platforms.Platform value
    channel_platform_id: str  # the page / IG account / X user / LinkedIn organization id
    customer_platform_id: str = ""  # PSID, IGSID, X user id, LinkedIn member URN
    event_id: str = ""  # the dedupe key: mid, DM event id, notificationId
    text: str = ""
    payload: str = ""  # quick-reply or postback payload
    attachments: tuple[Attachment, ...] = ()
    timestamp: datetime | None = None
    app_id: str = ""  # echoes: which app sent it (ours is settings.META_APP_ID)
    watermark: datetime | None = None  # deliveries and reads before this moment
    message_ids: tuple[str, ...] = ()  # deliveries that name their messages
    thread_owner_app_id: str = ""  # handover: the new owner
    customer_name: str = ""  # when the payload carries it (X `users`, LinkedIn decorated activity)
    customer_picture_url: str = ""
    reply_target: str = ""  # LinkedIn: the comment URN a reply attaches to
    source_post: str = ""  # LinkedIn: the post URN
    raw: dict[str, Any] = field(default_factory=dict)
    # Meta: delivered under `standby` (another app owns the thread: the bot must not answer).
    standby: bool = False
    handover_action: str = ""  # pass_thread_control, take_thread_control, request_thread_control
    previous_owner_app_id: str = ""  # handover: the app that had the thread
    action: str = ""  # LinkedIn notification action (COMMENT, SHARE_MENTION, ...); UNSUPPORTED: what it was
