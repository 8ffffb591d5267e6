"""Values the gateway takes and returns. Providers speak these, apps too."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Role = Literal["system", "user", "assistant"]


IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")  # what every vision provider here takes


@dataclass(frozen=True, repr=False)
class ImagePart:
    """An image sent with a message (a vision model reads it). The bytes travel
    inline: OpenAI-style `image_url` data URLs, Anthropic base64 `image` blocks."""

    media_type: str  # one of IMAGE_TYPES
    data: bytes

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{self.base64()}"

    def __repr__(self) -> str:  # never the bytes in logs and error texts
        return f"ImagePart({self.media_type}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str
    images: tuple[ImagePart, ...] = ()  # user messages only; a text-only message has none


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    estimated: bool = False  # True when the provider reported none (see gateway docs for the estimate)


@dataclass
class Completion:
    text: str
    model: str  # registry name
    provider: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"  # stop, length, cancelled, error
    latency_ms: int = 0
    credits: Decimal = Decimal("0")  # credits charged for this call (0 when the caller charges)
    provider_cost: Decimal = Decimal("0")  # USD we pay the provider
    usage_record_id: object = None
    price: Decimal = Decimal("0")  # credits the registry prices these tokens at, charged or not


@dataclass
class Embeddings:
    vectors: list[list[float]]
    model: str
    dimensions: int
    usage: Usage = field(default_factory=Usage)
