"""RSS 2.0 and Atom feeds (YouTube's channel feed is Atom with media: extensions),
parsed with defusedxml (no entity expansion, no external entities)."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import httpx
from defusedxml import ElementTree
from django.conf import settings

from .base import SourceError, SourceItem

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
YT = "{http://www.youtube.com/xml/schemas/2015}"
MAX_BYTES = 5 * 1024 * 1024


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def _text(node, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def fetch_xml(url: str):
    try:
        with httpx.Client(timeout=settings.CANVAS_SCRAPE_TIMEOUT, follow_redirects=True) as client:
            response = client.get(url, headers={"User-Agent": "aiplatform-canvas/1 (+feed reader)"})
    except httpx.HTTPError as exc:
        raise SourceError(f"The feed {url} could not be reached ({exc.__class__.__name__}).") from exc
    if response.status_code != 200:
        raise SourceError(f"The feed {url} answered {response.status_code}.")
    if len(response.content) > MAX_BYTES:
        raise SourceError(f"The feed {url} is larger than {MAX_BYTES // 1024 // 1024} MB.")
    try:
        return ElementTree.fromstring(response.content)
    except ElementTree.ParseError as exc:
        raise SourceError(f"The feed {url} is not valid XML ({exc}).") from exc
    except Exception as exc:  # defusedxml refuses entities and DTDs
        raise SourceError(f"The feed {url} was refused ({exc.__class__.__name__}).") from exc


def parse_feed(root, *, content_type: str = "text") -> list[SourceItem]:
    items: list[SourceItem] = []
    if root.tag == f"{ATOM}feed":
        for entry in root.findall(f"{ATOM}entry"):
            link = next(
                (x.get("href") for x in entry.findall(f"{ATOM}link") if x.get("rel", "alternate") == "alternate"), ""
            )
            group = entry.find(f"{MEDIA}group")
            thumb = group.find(f"{MEDIA}thumbnail") if group is not None else None
            description = _text(group, f"{MEDIA}description") if group is not None else ""
            items.append(SourceItem(
                url=link or _text(entry, f"{ATOM}id"),
                external_id=_text(entry, f"{YT}videoId") or _text(entry, f"{ATOM}id"),
                title=_text(entry, f"{ATOM}title"), description=description or _text(entry, f"{ATOM}summary"),
                published_at=_date(_text(entry, f"{ATOM}published") or _text(entry, f"{ATOM}updated")),
                thumbnail_url=thumb.get("url", "") if thumb is not None else "", content_type=content_type,
            ))  # fmt: skip
        return items
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise SourceError("This is neither an RSS nor an Atom feed.")
    for item in channel.findall("item"):
        enclosure = item.find("enclosure")
        thumb = item.find(f"{MEDIA}thumbnail")
        kind = content_type
        if enclosure is not None:
            mime = enclosure.get("type", "")
            kind = next((k for k in ("video", "audio", "image") if mime.startswith(k)), kind)
        items.append(SourceItem(
            url=_text(item, "link") or _text(item, "guid"), external_id=_text(item, "guid") or _text(item, "link"),
            title=_text(item, "title"), description=_text(item, "description"),
            published_at=_date(_text(item, "pubDate")), content_type=kind,
            thumbnail_url=thumb.get("url", "") if thumb is not None else "",
        ))  # fmt: skip
    return items


def _newest(items: list[SourceItem], limit: int) -> list[SourceItem]:
    items = [i for i in items if i.url.startswith(("http://", "https://"))]
    items.sort(key=lambda i: i.published_at.timestamp() if i.published_at else 0, reverse=True)
    return items[:limit]


class FeedAdapter:
    name = "feed"

    def __init__(self, url: str):
        self.url = url

    def fetch(self, creator, *, limit: int) -> list[SourceItem]:
        kind = "video" if creator.platform in ("youtube", "tiktok") else "text"
        return _newest(parse_feed(fetch_xml(self.url), content_type=kind), limit)


class YouTubeAdapter:
    name = "youtube_feed"

    def __init__(self, channel_id: str):
        self.channel_id = channel_id

    @property
    def url(self) -> str:
        return f"{settings.CANVAS_YOUTUBE_FEED_URL}?{urlencode({'channel_id': self.channel_id})}"

    def fetch(self, creator, *, limit: int) -> list[SourceItem]:
        return _newest(parse_feed(fetch_xml(self.url), content_type="video"), limit)
