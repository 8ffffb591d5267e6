"""oEmbed (https://oembed.com): what a platform says about one of its posts by URL:
title, author, thumbnail. A post added to a board by URL is described this way
when its platform has a public endpoint (YouTube, TikTok, X); the endpoints are
settings, so tests point them at a loopback fake."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from .base import SourceError

MAX_BYTES = 256 * 1024
KEPT = ("title", "author_name", "author_url", "provider_name", "thumbnail_url", "thumbnail_width",
        "thumbnail_height", "type")  # fmt: skip


def oembed_endpoint(platform: str) -> str:
    """The platform's oEmbed endpoint, or "" when it has no public one."""
    return {
        "youtube": settings.CANVAS_OEMBED_YOUTUBE_URL, "tiktok": settings.CANVAS_OEMBED_TIKTOK_URL,
        "twitter": settings.CANVAS_OEMBED_X_URL,
    }.get(platform, "")  # fmt: skip


def oembed_fetch(endpoint: str, url: str) -> dict[str, Any]:
    """The post's oEmbed fields we keep (`KEPT`); SourceError with a reason a user can read."""
    try:
        with httpx.Client(timeout=settings.CANVAS_SCRAPE_TIMEOUT, follow_redirects=True) as client:
            response = client.get(endpoint, params={"url": url, "format": "json"},
                                  headers={"User-Agent": "aiplatform-canvas/1 (+oembed)"})  # fmt: skip
    except httpx.HTTPError as exc:
        raise SourceError(f"The platform could not be reached for this post's details ({type(exc).__name__}).") from exc
    if response.status_code in (401, 403, 404):
        raise SourceError(f"The platform does not describe this post (HTTP {response.status_code}): it may be private "
                          "or deleted.")  # fmt: skip
    if response.status_code != 200:
        raise SourceError(f"The platform answered HTTP {response.status_code} for this post's details.")
    if len(response.content) > MAX_BYTES:
        raise SourceError("The platform's description of this post is too large.")
    try:
        data = response.json()
    except ValueError as exc:
        raise SourceError("The platform's description of this post is not JSON.") from exc
    if not isinstance(data, dict):
        raise SourceError("The platform's description of this post is not an object.")
    kept = {key: data[key] for key in KEPT if isinstance(data.get(key), str | int)}
    thumbnail = str(kept.get("thumbnail_url", ""))
    if thumbnail and not thumbnail.startswith("https://"):
        kept.pop("thumbnail_url")  # only https pictures go on a page
    return kept
