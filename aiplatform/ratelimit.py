"""Fixed-window rate limits counted in Redis (the default cache).

Keys must include the tenant or the client address they limit; see callers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    retry_after: int


def _window_key(key: str, window: int) -> tuple[str, int]:
    now = int(time.time())
    start = now - now % window
    return f"rl:{key}:{start}", start + window - now


def hit(key: str, *, limit: int, window: int) -> RateLimitResult:
    """Count one event; `allowed` is False once more than `limit` fell in the window."""
    cache_key, remaining = _window_key(key, window)
    cache.add(cache_key, 0, timeout=window + 1)
    count = cache.incr(cache_key)
    return RateLimitResult(allowed=count <= limit, count=count, retry_after=max(remaining, 1))


def peek(key: str, *, limit: int, window: int) -> RateLimitResult:
    cache_key, remaining = _window_key(key, window)
    count = cache.get(cache_key, 0)
    return RateLimitResult(allowed=count < limit, count=count, retry_after=max(remaining, 1))
