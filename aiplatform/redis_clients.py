"""The process's Redis clients: one per concern, shared by every module that needs it.

A client owns a connection pool, so a client made per call pays a connect (and, for
the asyncio client, leaks a pool unless closed). Concerns map to settings so they can be
split onto separate Redis servers by URL (README, "How to scale out"):

- ``cache``: the cache database (rate limits, chats' live answers and stops, the media
  queue's provider slots and heartbeats, the builder's generation streams);
- ``tracking``: the tracker's event stream and visitor sets (``TRACKING_REDIS_URL``).

Celery's broker and the channel layer keep their own clients (their libraries own them).
"""

from __future__ import annotations

import asyncio
import weakref
from functools import lru_cache

import redis
import redis.asyncio as aioredis
from django.conf import settings

CONCERNS = ("cache", "tracking")


def url(concern: str = "cache") -> str:
    if concern == "cache":
        return settings.CACHES["default"]["LOCATION"]
    if concern == "tracking":
        return settings.TRACKING_REDIS_URL
    raise ValueError(f"unknown Redis concern {concern!r}; one of {CONCERNS}")


def client(concern: str = "cache") -> redis.Redis:
    """The process's blocking client of `concern` (thread-safe: redis-py pools connections)."""
    return _client(url(concern))


@lru_cache(maxsize=8)
def _client(location: str) -> redis.Redis:
    return redis.Redis.from_url(location)


# An asyncio client's connections belong to the event loop that opened them, so there is
# one client per loop (the web process has one; tests and `async_to_sync` make others).
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aioredis.Redis]] = (
    weakref.WeakKeyDictionary()
)


def async_client(concern: str = "cache") -> aioredis.Redis:
    """The running event loop's asyncio client of `concern`; call from inside a coroutine."""
    loop = asyncio.get_running_loop()
    per_loop = _async_clients.setdefault(loop, {})
    location = url(concern)
    if location not in per_loop:
        per_loop[location] = aioredis.Redis.from_url(location)
    return per_loop[location]
