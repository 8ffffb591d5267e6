"""A generation's live frames: a Redis stream per generation (replayable from
its start, so a client that connects late misses nothing), read by the SSE
endpoint. Frames: `component` (stored, sanitised), `removed`, `retry`, `done`,
`error`. The stream expires an hour after its last frame."""

from __future__ import annotations

import json
import logging

import redis

from aiplatform import redis_clients

log = logging.getLogger("canvas.builder.frames")

TTL_SECONDS = 3600
END_TYPES = ("done", "error")


def key(generation_id) -> str:
    return f"aip:builder:gen:{generation_id}"


def _client() -> redis.Redis:
    return redis_clients.client("cache")


def publish(generation_id, frame: dict) -> None:
    try:
        client = _client()
        client.xadd(key(generation_id), {"f": json.dumps(frame, ensure_ascii=False)}, maxlen=500)
        client.expire(key(generation_id), TTL_SECONDS)
    except redis.RedisError:  # the editor falls back to the database replay
        log.warning("generation %s: frame not published", generation_id)


def exists(generation_id) -> bool:
    try:
        return bool(_client().exists(key(generation_id)))
    except redis.RedisError:
        return False


async def follow(generation_id, *, block_ms: int = 15000, idle_limit: int = 40):
    """Yield frames from the start until `done`/`error` (or ~10 minutes of silence)."""
    client = redis_clients.async_client("cache")  # the loop's shared client: not closed here
    last, idle = "0", 0
    while idle < idle_limit:
        answer = await client.xread({key(generation_id): last}, block=block_ms, count=50)
        if not answer:
            idle += 1
            yield {"type": "ping"}
            continue
        idle = 0
        for _name, entries in answer:
            for entry_id, fields in entries:
                last = entry_id
                frame = json.loads(fields[b"f"])
                yield frame
                if frame.get("type") in END_TYPES:
                    return
