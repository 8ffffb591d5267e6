"""What the bot or an agent sends, built once and rendered per platform.

`Outgoing` is platform-neutral; `platforms.<vendor>` renders it within that
platform's limits (Messenger: ≤ 13 quick replies with titles ≤ 20 chars, ≤ 10
carousel cards with title/subtitle ≤ 80 and ≤ 3 buttons), and degrades it to
numbered text where the platform has no rich messages (X DMs, LinkedIn comments).
`Outgoing.as_payload()` is what `ConversationMessage.payload` stores, so the
inbox renders a message as the customer saw it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

QUICK_REPLIES_MAX = 13
QUICK_REPLY_TITLE_MAX = 20
CARDS_MAX = 10
CARD_TEXT_MAX = 80
CARD_BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
PAYLOAD_MAX = 1000


def clip(text: str, limit: int) -> str:
    """`text` within `limit` characters, marked with an ellipsis when cut."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str = ""  # a postback payload, or empty for a link
    url: str = ""


@dataclass(frozen=True)
class QuickReply:
    title: str
    payload: str


@dataclass(frozen=True)
class Card:
    title: str
    subtitle: str = ""
    image_url: str = ""
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    text: str = ""
    quick_replies: tuple[QuickReply, ...] = ()
    cards: tuple[Card, ...] = ()
    image_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        """The seed 004 `content_type` of this message."""
        if self.cards:
            return "CAROUSEL"
        if self.quick_replies:
            return "QUICK_REPLY"
        if self.image_url and not self.text:
            return "IMAGE"
        return "TEXT"

    def as_payload(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v}

    @classmethod
    def from_payload(cls, text: str, payload: dict[str, Any] | None) -> Outgoing:
        payload = payload or {}
        return cls(
            text=text,
            quick_replies=tuple(QuickReply(**q) for q in payload.get("quick_replies", ())),
            cards=tuple(
                Card(
                    title=c["title"], subtitle=c.get("subtitle", ""), image_url=c.get("image_url", ""),
                    buttons=tuple(Button(**b) for b in c.get("buttons", ())),
                )
                for c in payload.get("cards", ())
            ),
            image_url=payload.get("image_url", ""),
            extra=payload.get("extra", {}),
        )  # fmt: skip

    def as_numbered_text(self) -> str:
        """The same choices for a platform without rich messages: numbered lines
        the customer answers by number (the bot reads the number back)."""
        lines = [self.text] if self.text else []
        n = 0
        for card in self.cards:
            n += 1
            detail = f" — {card.subtitle}" if card.subtitle else ""
            lines.append(f"{n}. {card.title}{detail}")
        for reply in self.quick_replies:
            n += 1
            lines.append(f"{n}. {reply.title}")
        if self.image_url:
            lines.append(self.image_url)
        return "\n".join(lines)

    def choice_payloads(self) -> list[str]:
        """The payload of each numbered choice of `as_numbered_text`, in order
        (a card counts as its first postback button)."""
        found = [next((b.payload for b in card.buttons if b.payload), "") for card in self.cards]
        return found + [r.payload for r in self.quick_replies]
