"""Sliding-window rate limits counted in Redis (the cache database).

Each key is a sorted set of event times, so "more than N in the last W seconds"
holds exactly, also across minute boundaries. Keys must include the tenant or
the client address they limit; see the callers.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import redis

from aiplatform import redis_clients


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    retry_after: int


def _client() -> redis.Redis:
    return redis_clients.client("cache")


def _key(key: str) -> str:
    return f"aip:rl:{key}"


def _retry_after(oldest: list, window: int, now: float) -> int:
    if not oldest:
        return 1
    return max(int(oldest[0][1] + window - now) + 1, 1)


def hit(key: str, *, limit: int, window: int) -> RateLimitResult:
    """Count one event; `allowed` is False once more than `limit` fell in the window."""
    now = time.time()
    rkey = _key(key)
    pipe = _client().pipeline()
    pipe.zremrangebyscore(rkey, "-inf", now - window)
    pipe.zadd(rkey, {uuid.uuid4().hex: now})
    pipe.zcard(rkey)
    pipe.zrange(rkey, 0, 0, withscores=True)
    pipe.expire(rkey, window + 1)
    _, _, count, oldest, _ = pipe.execute()
    return RateLimitResult(allowed=count <= limit, count=count, retry_after=_retry_after(oldest, window, now))


def peek(key: str, *, limit: int, window: int) -> RateLimitResult:
    """Would one more event be allowed? Counts nothing."""
    now = time.time()
    rkey = _key(key)
    pipe = _client().pipeline()
    pipe.zremrangebyscore(rkey, "-inf", now - window)
    pipe.zcard(rkey)
    pipe.zrange(rkey, 0, 0, withscores=True)
    _, count, oldest = pipe.execute()
    return RateLimitResult(allowed=count < limit, count=count, retry_after=_retry_after(oldest, window, now))
