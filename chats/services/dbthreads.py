"""Where the chats' database work runs when called from async code.

Channels' `database_sync_to_async` (which the AI gateway uses too) puts every
call of the process on one thread, so hundreds of answers starting and ending at
once queue behind each other: the streaming_load benchmark measured seconds of
time to first token at 100 new answers a second. Here the work is spread over
CHAT_DB_THREADS "lanes", single threads each with its own connection (Django's
connections are per thread):

* `lane()`: a running answer enters a `ThreadSensitiveContext` whose executor is
  the next lane, so every thread-sensitive call it makes (the gateway's, ours)
  runs on that lane, in order, beside the other lanes instead of behind every
  other answer of the process;
* `db(fn, ...)`: one self-contained service call (it opens and closes its own
  transaction) on the next lane, with connections recycled around it as Django
  does around a request.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import lru_cache
from typing import Any, TypeVar

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

T = TypeVar("T")
_turn = itertools.count()


@lru_cache(maxsize=1)
def _lanes() -> tuple[ThreadPoolExecutor, ...]:
    count = max(1, settings.CHAT_DB_THREADS)
    return tuple(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"chats-lane-{i}") for i in range(count))


def _next_lane() -> ThreadPoolExecutor:
    lanes = _lanes()
    return lanes[next(_turn) % len(lanes)]


def lane() -> ThreadSensitiveContext:
    """`async with lane():` the block's thread-sensitive calls run on the next lane."""
    return ThreadSensitiveContext(executor=_next_lane())


def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`await db(service, ...)`: run a self-contained service call on the next lane."""
    return await sync_to_async(_call, thread_sensitive=False, executor=_next_lane())(fn, *args, **kwargs)


def lanes_close_connections() -> None:
    """Close every lane's database connection (tests drop their database after)."""
    if _lanes.cache_info().currsize:
        wait([executor.submit(connections.close_all) for executor in _lanes()])
