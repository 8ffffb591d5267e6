"""Chat rate limits in Redis: messages per minute and answers in progress, per
user and per account, checked and counted in one round trip (a Lua script), so
two tabs sending at once cannot both slip under a limit.

* messages per minute: sliding windows (sorted sets of send times), exact across
  minute boundaries like `aiplatform.ratelimit`;
* concurrent answers: sorted sets of the answers in progress (member: the bot
  message id, score: start time). The generation removes its member when it
  ends; a member older than CHAT_GENERATION_TIMEOUT_SECONDS is dropped as stale,
  so a crashed process cannot block a user forever.

Keys carry the account (and the user), never a client-sent value.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

from aiplatform import redis_clients
from aiplatform.errors import RateLimited

WINDOW = 60  # seconds of the per-minute limits

# Returns {0, 0} when allowed (and counted), else {which, wait in ms}.
_ACQUIRE = """
local now, window, stale = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - stale)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - stale)
for i = 1, 2 do
  local limit = tonumber(ARGV[3 + i])
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    -- room comes back when the (count - limit + 1)th oldest send leaves the window
    local entry = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    return {i, math.ceil((tonumber(entry[2]) + window - now) * 1000)}
  end
end
for i = 3, 4 do
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[3 + i]) then
    return {i, -1}
  end
end
for i = 1, 4 do
  redis.call('ZADD', KEYS[i], now, ARGV[8])
  redis.call('EXPIRE', KEYS[i], i <= 2 and window + 1 or stale + 1)
end
return {0, 0}
"""

_MESSAGES = {
    1: "You are sending messages too fast: at most {limit} a minute. Try again in {wait} s.",
    2: "Your account is sending messages too fast: at most {limit} a minute. Try again in {wait} s.",
    3: "You already have {limit} answers in progress. Wait for one to finish (or stop it).",
    4: "Your account already has {limit} answers in progress. Wait for one to finish.",
}


@dataclass(frozen=True)
class Limits:
    user_per_minute: int
    account_per_minute: int
    user_concurrent: int
    account_concurrent: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            user_per_minute=settings.CHAT_USER_MESSAGES_PER_MINUTE,
            account_per_minute=settings.CHAT_ACCOUNT_MESSAGES_PER_MINUTE,
            user_concurrent=settings.CHAT_USER_CONCURRENT_ANSWERS,
            account_concurrent=settings.CHAT_ACCOUNT_CONCURRENT_ANSWERS,
        )


def redis_client() -> redis.Redis:
    """The process's Redis client (the cache database), for the chats' own keys."""
    return redis_clients.client("cache")


@lru_cache(maxsize=1)
def _script():
    return redis_client().register_script(_ACQUIRE)


def limit_keys(account_id, user_id) -> list[str]:
    return [
        f"aip:chat:rl:user:{account_id}:{user_id}",
        f"aip:chat:rl:account:{account_id}",
        f"aip:chat:running:user:{account_id}:{user_id}",
        f"aip:chat:running:account:{account_id}",
    ]


def answer_slot_acquire(*, account_id, user_id, answer_id) -> None:
    """Count one message and reserve one answer slot, or raise RateLimited (429)
    with `retry_after` in seconds."""
    limits = Limits.from_settings()
    which, wait_ms = _script()(
        keys=limit_keys(account_id, user_id),
        args=[
            time.time(), WINDOW, settings.CHAT_GENERATION_TIMEOUT_SECONDS,
            limits.user_per_minute, limits.account_per_minute, limits.user_concurrent, limits.account_concurrent,
            str(answer_id),
        ],
    )  # fmt: skip
    if which == 0:
        return
    limit = [limits.user_per_minute, limits.account_per_minute, limits.user_concurrent, limits.account_concurrent][
        which - 1
    ]
    # A busy slot frees when an answer ends: there is no exact wait, so the client
    # is told to retry after CHAT_BUSY_RETRY_AFTER seconds.
    wait = max(1, math.ceil(wait_ms / 1000)) if wait_ms >= 0 else settings.CHAT_BUSY_RETRY_AFTER
    code = "rate_limited" if which <= 2 else "too_many_answers"
    raise RateLimited(_MESSAGES[which].format(limit=limit, wait=wait), retry_after=wait, code=code)


def answer_slot_release(*, account_id, user_id, answer_id) -> None:
    pipe = redis_client().pipeline(transaction=False)
    keys = limit_keys(account_id, user_id)
    pipe.zrem(keys[2], str(answer_id))
    pipe.zrem(keys[3], str(answer_id))
    pipe.execute()
