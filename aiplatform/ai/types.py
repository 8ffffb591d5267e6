"""Values the gateway takes and returns. Providers speak these, apps too."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


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
