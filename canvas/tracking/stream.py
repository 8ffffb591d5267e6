"""The queue between the collector and the batch writer: one Redis stream.

A stream with one consumer group gives at-least-once delivery without a
home-made queue: a writer reads a batch (`XREADGROUP`), writes it, then
acknowledges and deletes it (`XACK` + `XDEL`); a batch whose writer died stays
pending and is taken over by the next writer after TRACKING_CLAIM_IDLE_SECONDS
(`XAUTOCLAIM`). Writing twice is harmless: every event carries its id from the
collector and the writer inserts each id once.

The stream is capped at TRACKING_STREAM_MAX_LEN entries (approximate trim), so a
stopped writer cannot fill Redis; the oldest events go first.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings

from aiplatform import redis_clients

from .copyline import encode_line, line_valid

GROUP = "writers"
FLUSH_FLAG = "aip:track:flush-scheduled"


def redis_client() -> redis.Redis:
    """The process's tracking client (aiplatform/redis_clients.py, TRACKING_REDIS_URL)."""
    return redis_clients.client("tracking")


def _key() -> str:
    return settings.TRACKING_STREAM_KEY


def entry(row: dict) -> dict[str, bytes]:
    """The stream entry of a queued row: its account and its COPY line."""
    return {"a": str(row["account_id"]).encode(), "l": encode_line(row)}


def enqueue(row: dict) -> bool:
    """Append one event; True when no flush is scheduled yet (the caller schedules one).

    One round trip: the append and the "flush scheduled" flag (set for twice the
    flush delay, so a lost task is replaced soon)."""
    ttl = max(int(settings.TRACKING_FLUSH_DELAY_SECONDS * 2), 1)
    pipe = redis_client().pipeline(transaction=False)
    pipe.xadd(_key(), entry(row), maxlen=settings.TRACKING_STREAM_MAX_LEN, approximate=True)
    pipe.set(FLUSH_FLAG + ":" + _key(), b"1", nx=True, ex=ttl)
    _, first = pipe.execute()
    return bool(first)


def flush_done() -> None:
    """The writer ran: the next event schedules the next flush."""
    redis_client().delete(FLUSH_FLAG + ":" + _key())


def _ensure_group(client: redis.Redis) -> None:
    try:
        client.xgroup_create(_key(), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


@dataclass(frozen=True)
class Batch:
    ids: tuple[bytes, ...]
    lines: tuple[tuple[str, bytes], ...]  # (account id, COPY line)

    def __len__(self) -> int:
        return len(self.ids)


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _decode(entries) -> Batch:
    """Entries that are not ours (no account, a line of another shape) are
    acknowledged with the batch and skipped: one bad entry must not stop a batch."""
    ids, lines = [], []
    accounts: dict[bytes, str | None] = {}  # a batch has few accounts: each is parsed once
    for entry_id, fields in entries or ():
        ids.append(entry_id)
        account, line = (fields or {}).get(b"a"), (fields or {}).get(b"l")
        if not account or not line or not line_valid(line):
            continue
        if account not in accounts:
            try:
                accounts[account] = str(uuid.UUID(account.decode()))
            except (ValueError, UnicodeDecodeError):
                accounts[account] = None
        if accounts[account] is not None:
            lines.append((accounts[account], line))
    return Batch(tuple(ids), tuple(lines))


def read_batch(count: int, consumer: str | None = None) -> Batch:
    """Up to `count` events: first any a dead writer left pending, else new ones."""
    client = redis_client()
    _ensure_group(client)
    consumer = consumer or consumer_name()
    idle_ms = settings.TRACKING_CLAIM_IDLE_SECONDS * 1000
    claimed = client.xautoclaim(_key(), GROUP, consumer, min_idle_time=idle_ms, start_id="0-0", count=count)
    if claimed and claimed[1]:
        return _decode(claimed[1])
    got = client.xreadgroup(GROUP, consumer, {_key(): ">"}, count=count)
    return _decode(got[0][1] if got else [])


def ack(batch: Batch) -> None:
    if not batch.ids:
        return
    pipe = redis_client().pipeline(transaction=False)
    pipe.xack(_key(), GROUP, *batch.ids)
    pipe.xdel(_key(), *batch.ids)
    pipe.execute()


def backlog() -> int:
    """Events in the stream (written but not yet acknowledged included)."""
    return int(redis_client().xlen(_key()))


def purge() -> None:
    """Drop the stream and its group (tests and the benchmark)."""
    client = redis_client()
    client.delete(_key(), FLUSH_FLAG + ":" + _key())
