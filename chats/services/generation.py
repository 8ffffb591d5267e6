"""Running answers: an asyncio task per answer in the ASGI process that accepted
the message, outside any websocket or HTTP connection (the socket that asked may
close; the answer still completes, is stored and charged).

Each process (each event loop) has one `Registry`:

* the answers it runs, by message and by session;
* one control channel on the channel layer, added to the control group of every
  session it runs an answer for: `chat.stop` and `chat.watch` requests from any
  process arrive there;
* one ordered publisher of layer messages (the pub/sub layer sends one at a time
  anyway; one queue keeps frames in order and off the token path);
* one snapshot loop that, about once a second, writes the partial text of every
  answer it runs into Redis in one pipeline (reloads and the orphan sweep read
  it) and picks up stops that could only be left in Redis.

Why not Celery: a worker would put every token through Redis, also for the
socket that asked, which the benchmarks show costs 1-2 ms per token and
saturates at about 200 streams on two cores; here that socket gets its frames
from the task directly. See docs/adr/0004-chat-streaming.md.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from aiplatform import redis_clients
from aiplatform.ai import gateway
from aiplatform.ai.pricing import credits_for, estimate_tokens
from billing.services.ledger import Reference
from personas.guard import StreamGuard, guard_output

from ..models import Message
from ..serializers import message_dict
from . import streaming
from .dbthreads import lane
from .messages import REFERENCE_TYPE, Finished, Outcome, Prepared, answer_finish

log = logging.getLogger("chats.generation")

Sink = Callable[[dict], Awaitable[None]]
WITHHELD = "This answer was withheld: it repeated the persona's instructions."
GUARD_OVERLAP = 400  # characters; see Generation._guard_window


class _Blocked(Exception):
    """The output guard stopped the answer."""


@dataclass
class Generation:
    prepared: Prepared
    sink: Sink | None
    registry: Registry

    def __post_init__(self) -> None:
        p = self.prepared
        self.account_id, self.session_id, self.message_id = str(p.account.id), p.session_id, p.answer_id
        self.group = streaming.session_group(self.account_id, self.session_id)
        self.control = streaming.control_group(self.account_id, self.session_id)
        self.parts: list[str] = []
        self.length = 0  # code points so far
        self.guarded_at = 0
        # The output guard sees text before anyone does: only text[:released] has been
        # shown (sent, snapshotted); the tail that may still turn into a leak waits.
        self.released = 0
        self.blocked = False
        self.stream_guard = StreamGuard(p.system_prompt) if p.system_prompt else None
        self.stop_reason = ""  # stopped, timeout
        self.watched = False
        self.reader: asyncio.Task | None = None
        self.finished = asyncio.Event()
        # The question and placeholder frames go to the socket that asked before any
        # token: sent by the task while the provider prepares its first token.
        self.introduced = asyncio.Event()
        self.result: Finished | None = None
        self.direct = streaming.Outlet(self.registry.direct_interval, self._to_sink) if self.sink else None
        self.broadcast = streaming.Outlet(self.registry.group_interval, self._to_group)

    @property
    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    @property
    def shown(self) -> str:
        """What sockets and snapshots may have: the text the guard has passed."""
        return self.text[: self.released]

    def _guard_window(self) -> str:
        """What the output guard reads while the answer streams: the text since the
        last check plus GUARD_OVERLAP characters before it, so that a copied fragment
        long enough to block (eight words, also spaced out or hex-encoded) that ends
        in the new text is read whole. Each check then costs the same however long
        the answer grows; the whole answer is checked once more at the end (sentences
        reordered across it are caught there)."""
        return self.text[max(0, self.guarded_at - GUARD_OVERLAP) :]

    # --- delivery ------------------------------------------------------------------

    async def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)
        if self.stream_guard is None:
            await self._release(piece)
            return
        system_prompt = self.prepared.system_prompt
        if self.length - self.guarded_at >= settings.CHAT_GUARD_EVERY_CHARS:
            if guard_output(system_prompt, self._guard_window()).blocked:
                self._block()
            self.guarded_at = self.length
        text = self.text
        offset, blocked = self.stream_guard.release_offset(text, self.released)
        if blocked:
            self._block()
        if offset > self.released:
            await self._release(text[self.released : offset])

    def _block(self) -> None:
        self.blocked = True
        raise _Blocked

    async def _release(self, piece: str) -> None:
        self.released += len(piece)
        if self.direct is not None:
            await self.direct.push(piece)
        if self.watched:
            await self.broadcast.push(piece)
        else:
            self.broadcast.skip_to(self.released)

    async def release_rest(self) -> None:
        """The answer ended and passed the guard as a whole: show what was held back."""
        if self.length > self.released:
            await self._release(self.text[self.released :])

    async def _to_sink(self, offset: int, text: str) -> None:
        await self.send_direct(streaming.TokenFrame(type="token", message_id=self.message_id, offset=offset, text=text))

    async def _to_group(self, offset: int, text: str) -> None:
        frame = streaming.TokenFrame(type="token", message_id=self.message_id, offset=offset, text=text)
        self.registry.publish("group_send", self.group, {"type": streaming.FRAME, "frame": frame})

    async def send_direct(self, frame: dict) -> None:
        if not self.introduced.is_set():
            await self.introduced.wait()
        sink = self.sink
        if sink is None:
            return
        try:
            await sink(frame)
        except Exception:  # the socket went away: the answer goes on without it
            self.detach(sink)

    def detach(self, sink: Sink) -> None:
        if self.sink is sink:
            self.sink, self.direct = None, None

    async def introduce(self, frames: list[dict]) -> None:
        try:
            for frame in frames:
                if self.sink is None:
                    break
                try:
                    await self.sink(frame)
                except Exception:  # the socket went away before the answer started
                    self.detach(self.sink)
        finally:
            self.introduced.set()

    async def flush(self) -> None:
        if self.direct is not None:
            await self.direct.close()
        if self.watched:
            await self.broadcast.close()

    def watch(self, reply_to: str) -> None:
        """Another socket wants this answer: it gets the text so far, then the group frames."""
        if not self.watched:
            self.broadcast.skip_to(self.released)  # what is pending is in the sync below
            self.watched = True
        frame = streaming.SyncFrame(type="sync", message_id=self.message_id, text=self.shown, offset=self.released)
        self.registry.publish("send", reply_to, {"type": streaming.FRAME, "frame": frame})

    def stop(self, reason: str = "stopped") -> None:
        """Cancel the reading; a stop that comes after the last piece changes nothing."""
        if self.stop_reason or (self.reader is not None and self.reader.done()):
            return
        self.stop_reason = reason
        if self.reader is not None:
            self.reader.cancel()


class Registry:
    """The answers this process (event loop) runs; see the module docstring."""

    def __init__(self) -> None:
        self.generations: dict[str, Generation] = {}
        self.by_session: dict[str, Generation] = {}
        self.control_channel: str | None = None
        self._queue: asyncio.Queue = asyncio.Queue()
        self._tasks: set[asyncio.Task] = set()
        self._publisher: asyncio.Task | None = None
        self._snapshots: asyncio.Task | None = None
        self._redis: aioredis.Redis | None = None
        self._forget: list[str] = []  # ended answers whose live state is still in Redis

    # --- frame pacing -----------------------------------------------------------------

    def direct_interval(self) -> float:
        """Seconds between frames to the socket that asked: short while the process is
        quiet, longer once it runs many answers (fewer, larger frames: each frame costs
        the event loop a send, and the loop serves every answer of the process)."""
        busy = len(self.generations) >= settings.CHAT_BUSY_ANSWERS
        return (settings.CHAT_BUSY_FRAME_MS if busy else settings.CHAT_DIRECT_FRAME_MS) / 1000

    def group_interval(self) -> float:
        return settings.CHAT_GROUP_FRAME_MS / 1000

    # --- background tasks, started on first use -------------------------------------

    def _spawn(self, coro) -> asyncio.Task:
        # A fresh context: the request or consumer that started the answer may end
        # (and shut its thread-sensitive executor) long before the answer does.
        task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def publish(self, op: str, target: str, message: dict) -> None:
        """Queue one channel-layer call (send, group_send, group_add, group_discard)."""
        self._queue.put_nowait((op, target, message))
        if self._publisher is None or self._publisher.done():
            self._publisher = self._spawn(self._publish_loop())

    async def _publish_loop(self) -> None:
        layer = get_channel_layer()
        while True:
            op, target, message = await self._queue.get()
            try:
                if op in ("group_add", "group_discard"):
                    await getattr(layer, op)(target, message["channel"])
                else:
                    await getattr(layer, op)(target, message)
            except Exception:
                log.exception("channel layer %s to %s failed", op, target)

    async def _control_channel(self) -> str:
        if self.control_channel is None:
            layer = get_channel_layer()
            self.control_channel = await layer.new_channel("chats.control.")
            self._spawn(self._control_loop(layer, self.control_channel))
        return self.control_channel

    async def _control_loop(self, layer, channel: str) -> None:
        while True:
            message = await layer.receive(channel)
            gen = self.by_session.get(str(message.get("session_id")))
            if gen is None:
                continue
            if message.get("type") == streaming.STOP:
                gen.stop()
            elif message.get("type") == streaming.WATCH and message.get("reply_to"):
                gen.watch(message["reply_to"])

    async def _snapshot_loop(self) -> None:
        """Partial texts into Redis about once a second, all answers in one pipeline;
        stops left in Redis are picked up here, and the live state of ended answers
        is dropped in the same round trip."""
        if self._redis is None:
            self._redis = redis_clients.async_client("cache")
        while self.generations or self._forget:
            await asyncio.sleep(settings.CHAT_SNAPSHOT_SECONDS)
            running = list(self.generations.values())
            forget, self._forget = self._forget, []
            pipe = self._redis.pipeline(transaction=False)
            for gen in running:
                key = streaming.live_key(gen.message_id)
                pipe.hset(key, mapping=streaming.live_fields(gen.shown, prompt_tokens=gen.prepared.prompt.tokens))
                pipe.expire(key, streaming.LIVE_TTL)
                pipe.exists(streaming.stop_key(gen.message_id))
            if forget:
                pipe.delete(*(key for message_id in forget for key in (streaming.live_key(message_id),
                                                                        streaming.stop_key(message_id))))  # fmt: skip
            try:
                results = await pipe.execute()
            except Exception:
                log.exception("answer snapshots failed")
                continue
            for gen, stop in zip(running, results[2 : 3 * len(running) : 3], strict=True):
                if stop:
                    gen.stop()

    def _ensure_snapshots(self) -> None:
        if self._snapshots is None or self._snapshots.done():
            self._snapshots = self._spawn(self._snapshot_loop())

    async def aclose(self) -> None:
        """Stop the background tasks (tests, and a loop that is about to close), after
        giving the answers still running a few seconds to end."""
        running = [gen.finished.wait() for gen in self.generations.values()]
        if running:
            await asyncio.wait_for(asyncio.gather(*running), timeout=5)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            # Bounded: a task of a loop that is being torn down may never get to run again.
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    # --- answers -------------------------------------------------------------------

    def start(self, prepared: Prepared, sink: Sink | None = None) -> Generation:
        gen = Generation(prepared=prepared, sink=sink, registry=self)
        self.generations[gen.message_id] = gen
        self.by_session[gen.session_id] = gen
        self._spawn(_run(gen))
        self._ensure_snapshots()
        return gen

    def end(self, gen: Generation) -> None:
        self.generations.pop(gen.message_id, None)
        if self.by_session.get(gen.session_id) is gen:
            del self.by_session[gen.session_id]
        self._forget.append(gen.message_id)
        self._ensure_snapshots()

    def stop_local(self, session_id: str) -> bool:
        gen = self.by_session.get(str(session_id))
        if gen is None:
            return False
        gen.stop()
        return True

    async def join_control(self, gen: Generation) -> None:
        channel = await self._control_channel()
        self.publish("group_add", gen.control, {"channel": channel})

    def leave_control(self, gen: Generation) -> None:
        if self.control_channel is not None and gen.session_id not in self.by_session:
            self.publish("group_discard", gen.control, {"channel": self.control_channel})


_registries: dict[asyncio.AbstractEventLoop, Registry] = {}


def registry() -> Registry:
    loop = asyncio.get_running_loop()
    found = _registries.get(loop)
    if found is None:
        for old in [lp for lp in _registries if lp.is_closed()]:
            del _registries[old]
        found = _registries[loop] = Registry()
    return found


# --- one answer -----------------------------------------------------------------------


async def _run(gen: Generation) -> None:
    async with lane():  # the answer's database calls (the gateway's too) on one lane: see dbthreads.py
        await _generate(gen)


async def _generate(gen: Generation) -> None:
    p, reg = gen.prepared, gen.registry
    frames = [streaming.MessageFrame(type="message", message_id=gen.message_id, message=message_dict(m))
              for m in (p.user_message, p.answer) if m is not None]  # fmt: skip
    for frame in frames:
        reg.publish("group_send", gen.group, {"type": streaming.FRAME, "frame": frame})
    await reg.join_control(gen)
    system_prompt = p.system_prompt
    stream = gateway.astream(
        account=p.account, model=p.entry.name, messages=p.prompt.messages, feature="chat", user=p.user,
        temperature=p.temperature, max_tokens=p.max_tokens, reference=Reference(REFERENCE_TYPE, gen.message_id),
        reservation=p.reservation_id, generation=True,
        # The whole answer, once, before it is metered: a blocked answer is charged nothing.
        output_guard=(lambda text: guard_output(system_prompt, text).blocked) if system_prompt else None,
    )  # fmt: skip
    timeout = asyncio.get_running_loop().call_later(settings.CHAT_GENERATION_TIMEOUT_SECONDS, gen.stop, "timeout")
    error: Exception | None = None
    blocked = False
    gen.reader = asyncio.ensure_future(_read(gen, stream))
    if gen.stop_reason:  # stopped before it started
        gen.reader.cancel()
    await gen.introduce(frames)  # while the reader waits for the provider's first token
    try:
        await gen.reader
    except asyncio.CancelledError:
        if asyncio.current_task().cancelling():  # this task is cancelled (shutdown), not the reader
            raise
    except _Blocked:
        blocked = True
    except Exception as exc:  # ServiceError from the gateway (provider, shut-off), or a bug
        error = exc
        if not getattr(exc, "code", None):
            log.exception("answer %s failed", gen.message_id)
    finally:
        timeout.cancel()
    try:
        completion = stream.completion
        blocked = blocked or gen.blocked or (completion is not None and completion.finish_reason == "blocked")
        if not blocked and gen.parts and p.system_prompt and (completion is None or error is not None):
            # The gateway checked the whole answer unless the call failed: check it here,
            # off the event loop (it serves every other answer).
            verdict = await asyncio.to_thread(guard_output, p.system_prompt, gen.text)
            blocked = verdict.blocked
        if not blocked:
            await gen.release_rest()
        await gen.flush()
        outcome = _outcome(gen, stream, error=error, blocked=blocked)
        gen.result = await database_sync_to_async(answer_finish)(p, outcome)
        await _announce_end(gen, outcome)
    finally:
        reg.end(gen)
        reg.leave_control(gen)
        gen.finished.set()


async def _read(gen: Generation, stream: gateway.AsyncCompletionStream) -> None:
    try:
        async for piece in stream:
            if piece:
                await gen.add(piece)
    finally:
        # Stopped, blocked or cancelled: close upstream; the gateway records what was
        # generated (a blocked answer as blocked: charged nothing).
        await stream.aclose(blocked=gen.blocked)


def _outcome(gen: Generation, stream, *, error: Exception | None, blocked: bool) -> Outcome:
    text = gen.text
    completion = stream.completion
    record = completion.usage_record_id if completion is not None else None
    if completion is not None:
        tokens_in, tokens_out = completion.usage.tokens_in, completion.usage.tokens_out
    else:  # the call never started (or its record was lost): the documented estimate
        tokens_in, tokens_out = (gen.prepared.prompt.tokens, estimate_tokens(text)) if text else (0, 0)
    if blocked:
        return Outcome(
            status=Message.Status.ERROR, text="", tokens_in=tokens_in, tokens_out=tokens_out,
            error_code="output_blocked", error_message=WITHHELD, usage_record_id=record,
        )  # fmt: skip
    if error is not None:
        # Charged for what was delivered, never for nothing (the gateway charged the failed call 0).
        extra = credits_for(gen.prepared.entry, tokens_in, tokens_out) if text else Decimal("0")
        return Outcome(
            status=Message.Status.ERROR, text=text, tokens_in=tokens_in, tokens_out=tokens_out, extra_charge=extra,
            usage_record_id=record, error_code=getattr(error, "code", "error"),
            error_message=getattr(error, "message", "The answer failed. Try again."),
        )  # fmt: skip
    if gen.stop_reason and (completion is None or completion.finish_reason == "cancelled"):
        if gen.stop_reason == "timeout":
            return Outcome(status=Message.Status.ERROR, text=text, tokens_in=tokens_in, tokens_out=tokens_out,
                           usage_record_id=record, error_code="timeout",
                           error_message="The answer took too long and was stopped.")  # fmt: skip
        return Outcome(
            status=Message.Status.STOPPED, text=text, tokens_in=tokens_in, tokens_out=tokens_out, usage_record_id=record
        )
    return Outcome(
        status=Message.Status.COMPLETE, text=text, tokens_in=tokens_in, tokens_out=tokens_out, usage_record_id=record
    )


def end_frame(message: Message, title: str) -> dict:
    """The last frame of an answer: `done` (complete, stopped) or `error` (failed,
    with the code), both with what was kept, the usage and the credits charged."""
    details = {
        "message_id": str(message.pk), "status": message.status, "content": message.content,
        "usage": streaming.Usage(tokens_in=message.tokens_in, tokens_out=message.tokens_out),
        "credits": streaming.credits_text(message.credits_charged), "citations": message.citations, "title": title,
    }  # fmt: skip
    if message.status == Message.Status.ERROR:
        return streaming.ErrorFrame(type="error", code=message.error_code or "error",
                                    message=message.error_message, **details)  # fmt: skip
    return streaming.DoneFrame(type="done", **details)


async def _announce_end(gen: Generation, outcome: Outcome) -> None:
    result = gen.result
    if result is None or result.message is None:  # the chat was deleted meanwhile
        frame: dict = streaming.ErrorFrame(type="error", code="not_found", message="This chat was deleted.",
                                           message_id=gen.message_id)  # fmt: skip
    else:
        frame = end_frame(result.message, result.title)
    await gen.send_direct(frame)
    gen.registry.publish("group_send", gen.group, {"type": streaming.FRAME, "frame": frame})
