"""Source adapters: where the new posts of a followed creator come from.

One adapter per platform (`adapter_for(creator)`), each turning a creator into a
list of `SourceItem`s. The built-in ones read public feeds where they exist and a
file import otherwise; which one a creator uses follows its `metadata` (set by
operators in the admin):

- YouTube: the channel's public Atom feed (`metadata.channel_id`, else
  `metadata.feed_url`), CANVAS_YOUTUBE_FEED_URL.
- any platform with `metadata.feed_url`: an RSS 2.0 or Atom feed (e.g. a LinkedIn
  newsletter, or an RSS bridge an operator runs for X, Instagram or TikTok).
- any platform with `metadata.import_file`: a JSON file in storage (a list of
  `{url, title?, description?, published_at?, thumbnail_url?, content_type?}`),
  e.g. an export an operator uploads.
- otherwise: NoSource (nothing to read; the creator's `metadata.scrape_error`
  says what to configure).

Register another adapter with `register_adapter(platform, factory)`, where
`factory(creator)` returns an adapter or None (then the built-ins are tried).
"""

from __future__ import annotations

from collections.abc import Callable

from .base import NoSource, SourceAdapter, SourceError, SourceItem
from .feeds import FeedAdapter, YouTubeAdapter
from .files import FileImportAdapter

__all__ = [
    "SourceAdapter", "SourceItem", "SourceError", "NoSource", "FeedAdapter", "YouTubeAdapter",
    "FileImportAdapter", "adapter_for", "register_adapter",
]  # fmt: skip

_CUSTOM: dict[str, Callable] = {}


def register_adapter(platform: str, factory: Callable) -> None:
    _CUSTOM[platform] = factory


def adapter_for(creator) -> SourceAdapter:
    custom = _CUSTOM.get(creator.platform)
    if custom is not None and (adapter := custom(creator)) is not None:
        return adapter
    meta = creator.metadata or {}
    if creator.platform == "youtube" and meta.get("channel_id"):
        return YouTubeAdapter(channel_id=str(meta["channel_id"]))
    if meta.get("feed_url"):
        return FeedAdapter(url=str(meta["feed_url"]))
    if meta.get("import_file"):
        return FileImportAdapter(path=str(meta["import_file"]))
    return NoSource(
        f"No source is set for {creator.platform} creator @{creator.username}: set metadata.feed_url (RSS/Atom), "
        + ("metadata.channel_id, " if creator.platform == "youtube" else "")
        + "or metadata.import_file (a JSON file in storage) in the admin."
    )
