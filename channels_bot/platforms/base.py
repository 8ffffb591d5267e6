"""The one interface every platform client implements, and its errors.

A client turns `rich.Outgoing` into that platform's request within its limits,
sends it with the channel's (decrypted) token, and classifies failures so the
send task knows whether to retry (`THROTTLED`, `TRANSIENT`), give up
(`PERMANENT`), mark the channel for reconnecting (`AUTH`) or tell the agent
the messaging window is closed (`WINDOW_CLOSED`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from channels_bot.models import ConnectedChannel
    from channels_bot.rich import Outgoing


class Failure(StrEnum):
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    AUTH = "auth"
    WINDOW_CLOSED = "window_closed"


class PlatformError(Exception):
    """A platform answered with an error (or did not answer)."""

    def __init__(
        self, message: str, *, failure: Failure, code: str = "", subcode: str = "", retry_after: float | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.failure = failure
        self.code = code
        self.subcode = subcode
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.failure in (Failure.THROTTLED, Failure.TRANSIENT)


@dataclass(frozen=True)
class SendResult:
    platform_message_id: str


@dataclass(frozen=True)
class Profile:
    full_name: str = ""
    profile_picture_url: str = ""


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_at: datetime | None = None
    refresh_token: str | None = None


@dataclass(frozen=True)
class SendContext:
    """Where a message goes and under which rule: `reply_to_comment` is the
    LinkedIn comment (or post) a reply answers; `human_agent_tag` sends with
    Messenger's HUMAN_AGENT tag (outside the 24 h window, within 7 days);
    `skip_parts` the parts of a multi-part message a failed attempt already sent."""

    recipient_id: str
    human_agent_tag: bool = False
    reply_to_comment: str = ""
    source_post: str = ""
    skip_parts: int = 0


class PlatformClient(Protocol):
    def send(self, channel: ConnectedChannel, outgoing: Outgoing, context: SendContext) -> SendResult: ...

    def fetch_profile(self, channel: ConnectedChannel, platform_customer_id: str) -> Profile | None: ...

    def refresh_token(self, channel: ConnectedChannel) -> TokenGrant | None:
        """A fresh token before the stored one expires; None where the platform's tokens do not expire."""
        ...

    def pass_thread_to_inbox(self, channel: ConnectedChannel, recipient_id: str) -> None:
        """Messenger's handover protocol; a no-op where the platform has none."""
        ...

    def take_thread_back(self, channel: ConnectedChannel, recipient_id: str) -> None: ...

    def subscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """Make the platform push this channel's events to our webhook endpoint
        (`http.webhook_url`); called when it is connected, before it is stored, so
        `channel` may be unsaved. Raises PlatformError when the platform refuses."""
        ...

    def unsubscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """Stop those pushes (called when the channel is disconnected, before its
        tokens are erased). Raises PlatformError when the platform refuses."""
        ...
