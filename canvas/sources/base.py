"""The adapter interface and what an adapter returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class SourceError(Exception):
    """The source could not be read (network, status, format). `message` is for operators."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SourceItem:
    """One post of a creator."""

    url: str
    external_id: str = ""
    title: str = ""
    description: str = ""
    published_at: datetime | None = None
    thumbnail_url: str = ""
    content_type: str = "video"  # video | image | text | audio
    metadata: dict = field(default_factory=dict)


class SourceAdapter(Protocol):
    name: str

    def fetch(self, creator, *, limit: int) -> list[SourceItem]:
        """The creator's newest posts (newest first, at most `limit`); SourceError when unreadable."""


class NoSource:
    name = "none"

    def __init__(self, reason: str):
        self.reason = reason

    def fetch(self, creator, *, limit: int) -> list[SourceItem]:
        raise SourceError(self.reason)
