"""How answer text travels: the frames, the Channels groups, the coalescing
outlets, and the live state kept in Redis while an answer streams.

Frames (JSON, server to client; the same dicts are the SSE events):

    hello    {session_id, streaming}                     on connect
    message  {message_id, message}                       a new user message or answer (placeholder)
    sync     {message_id, text, offset}                  the partial answer so far (reload, other tab)
    token    {message_id, offset, text}                  more answer text; `offset` counts code points
    done     {message_id, status, content, usage, credits, citations, title}   an answer ended (complete, stopped)
    error    {code, message, retry_after?, fields?}                            a refused request
    error    {code, message, message_id, status, content, usage, credits, ...}  an answer that failed

Delivery (see docs/adr/0004-chat-streaming.md): the socket that asked for an
answer gets its frames straight from the generation task in its own process
(no Redis); everyone else on the session (other tabs, devices, a reload) is in
the session's group and gets coalesced frames over the channel layer, and only
while somebody watches (`chat.watch` on the control group).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

# --- frames --------------------------------------------------------------------------


class Usage(TypedDict):
    tokens_in: int
    tokens_out: int


class HelloFrame(TypedDict):
    type: str  # "hello"
    session_id: str
    streaming: str | None  # id of the answer in progress


class MessageFrame(TypedDict):
    type: str  # "message"
    message_id: str  # the answer this message belongs to (its question, or itself)
    message: dict


class SyncFrame(TypedDict):
    type: str  # "sync"
    message_id: str
    text: str
    offset: int


class TokenFrame(TypedDict):
    type: str  # "token"
    message_id: str
    offset: int
    text: str


class DoneFrame(TypedDict):
    type: str  # "done"
    message_id: str
    status: str  # complete, stopped, error
    content: str
    usage: Usage
    credits: str
    citations: list
    title: str


class ErrorFrame(TypedDict):
    type: str  # "error"
    code: str
    message: str
    retry_after: NotRequired[int]
    fields: NotRequired[dict]
    # An answer that failed: which one, and what it kept and cost (as in `done`).
    message_id: NotRequired[str]
    status: NotRequired[str]
    content: NotRequired[str]
    usage: NotRequired[Usage]
    credits: NotRequired[str]
    citations: NotRequired[list]
    title: NotRequired[str]


Frame = HelloFrame | MessageFrame | SyncFrame | TokenFrame | DoneFrame | ErrorFrame


def error_frame(exc: Any, message_id: str | None = None) -> ErrorFrame:
    """A ServiceError (or anything with code/message) as an error frame."""
    frame = ErrorFrame(type="error", code=getattr(exc, "code", "error"), message=getattr(exc, "message", str(exc)))
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        frame["retry_after"] = int(retry_after)
    if getattr(exc, "fields", None):
        frame["fields"] = exc.fields
    if message_id:
        frame["message_id"] = message_id
    return frame


def credits_text(value: Decimal) -> str:
    return f"{Decimal(value):.4f}"


# --- groups ----------------------------------------------------------------------------
# Names carry the account: a session id alone never selects a group.


def session_group(account_id, session_id) -> str:
    """Every socket open on the session (frames for other tabs and devices)."""
    return f"chats.{account_id}.{session_id}"


def control_group(account_id, session_id) -> str:
    """The process running the session's answer (stop and watch requests)."""
    return f"chats-ctl.{account_id}.{session_id}"


# Layer message types (routed by Channels to `chat_frame`, and to the registry).
FRAME = "chat.frame"
STOP = "chat.stop"
WATCH = "chat.watch"


# --- outlets ---------------------------------------------------------------------------


class Outlet:
    """Coalesces text pieces into frames at most one per `interval` seconds.

    A piece arriving after a quiet spell goes out at once (no added delay); pieces
    arriving faster than `interval` wait for the next slot and leave together.
    `deliver(offset, text)` runs one call at a time, in order. A timer is set only
    when pieces bunch up, so a steady stream costs no timers.
    """

    def __init__(
        self, interval: Callable[[], float], deliver: Callable[[int, str], Awaitable[None]], offset: int = 0
    ) -> None:
        self.interval = interval  # read at every piece: it grows when the process is busy
        self.deliver = deliver
        self.offset = offset  # code points delivered (or skipped) before the pending text
        self._pending: list[str] = []
        self._last = -math.inf
        self._timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    async def push(self, piece: str) -> None:
        self._pending.append(piece)
        loop = asyncio.get_running_loop()
        interval = self.interval()
        if loop.time() - self._last >= interval and not self._lock.locked():
            await self.flush()
        elif self._timer is None:
            self._timer = loop.call_at(self._last + interval, self._fire)

    def _fire(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._pending:
                return
            text = "".join(self._pending)
            self._pending.clear()
            offset, self.offset = self.offset, self.offset + len(text)
            self._last = asyncio.get_running_loop().time()
            await self.deliver(offset, text)

    def skip_to(self, offset: int) -> None:
        """Forget pending text; the next frame starts at `offset` (used while nobody watches)."""
        self._pending.clear()
        self.offset = offset

    async def close(self) -> None:
        """Deliver what is pending and wait for timer-started flushes."""
        await self.flush()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


# --- live state in Redis -------------------------------------------------------------
# One hash per answer in progress: the partial text (a snapshot, written about once a
# second for every answer of the process in one pipeline), when its process last
# wrote it (`beat`), and how many tokens the prompt had. The orphan sweep reads it.


def live_key(message_id) -> str:
    return f"aip:chat:live:{message_id}"


def stop_key(message_id) -> str:
    """A stop asked for while the owner could not be reached (read at each snapshot)."""
    return f"aip:chat:stop:{message_id}"


LIVE_TTL = 24 * 3600  # seconds: the sweep reads snapshots long after the process died


def live_fields(text: str, **extra: Any) -> dict[str, str]:
    return {"text": text, "beat": f"{time.time():.3f}", **{k: json.dumps(v) for k, v in extra.items()}}
