"""The interface every provider implements, and the values it speaks.

A provider turns one request into text (whole, or piece by piece) and reports
the tokens it was billed for when it knows them. It knows nothing of accounts,
credits or usage records: the gateway does that around it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from ..types import ChatMessage


@dataclass(frozen=True)
class ChatRequest:
    model: str  # the provider's model id (AiModel.provider_model)
    messages: tuple[ChatMessage, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    json_output: bool = False
    json_schema: dict | None = None
    timeout: float | None = None  # seconds to wait for the next byte; None: AI_TIMEOUT
    output_limit: int = 4096  # the registry's max_output_tokens, for providers that require a limit


@dataclass
class ChatResult:
    """What a provider reports about an answer. Tokens are None when it reports none.

    A stream fills in the tokens and finish reason as they arrive (the gateway
    collects the text), so what was generated is known when the caller stops early."""

    text: str = ""
    tokens_in: int | None = None
    tokens_out: int | None = None
    finish_reason: str = "stop"


@dataclass(frozen=True)
class EmbedRequest:
    model: str
    texts: tuple[str, ...]
    dimensions: int | None = None
    timeout: float | None = None


@dataclass(frozen=True)
class EmbedResult:
    vectors: list[list[float]]
    tokens: int | None


class Provider(ABC):
    name: str  # AiModel.Provider value
    label: str  # for people, in error messages

    @abstractmethod
    def complete(self, request: ChatRequest) -> ChatResult: ...

    @abstractmethod
    def stream(self, request: ChatRequest, result: ChatResult) -> Iterator[str]:
        """Yield text pieces and fill `result`'s usage and finish reason as reported.
        Closing the generator closes the upstream response."""

    @abstractmethod
    def astream(self, request: ChatRequest, result: ChatResult) -> AsyncIterator[str]:
        """`stream` for the event loop: an async generator."""

    @abstractmethod
    def embed(self, request: EmbedRequest) -> EmbedResult: ...
