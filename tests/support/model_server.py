"""A model provider on loopback: a real HTTP server speaking the OpenAI chat
completions and embeddings API and the Anthropic messages API, streaming
included, so the gateway's real client code runs in tests and benchmarks.

    server = ModelServer().start()
    server.base_url                      # "http://127.0.0.1:PORT/v1"
    server.reply("Hello there", times=1, usage=True)  # next completion(s) answer this
    server.fail(500, times=2)            # next request(s) fail with that status
    server.fail(429, retry_after=1)      # ...with a Retry-After header
    server.slow(first_token_delay=0.5, token_delay=0.01)  # pacing, until reset()
    server.requests                      # JSON bodies received, in order
    POST /v1/images/generations          # answers `n` 16x16 green PNGs as b64_json
    server.images_received()             # image parts of the chat requests: ReceivedImage(kind, media_type, data)
    server.reset(); server.stop()

With an empty queue a completion answers "Echo: " + the last user message.
Answers are streamed one word per chunk (a word with its trailing space is one
"token"). Reported usage is deterministic: prompt tokens = words in all
message contents (and the Anthropic `system`), completion tokens = chunks;
`reply(..., usage=False)` reports none, `usage={"prompt_tokens": 3, ...}`
reports exactly that. Streams send the final usage chunk only when the request
asks `stream_options.include_usage` (as OpenAI does).

It runs uvicorn in a background thread with its own event loop; everything a
test scripts is guarded by one lock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn

_WORD = re.compile(r"\S+\s*|\s+")


@dataclass
class _Reply:
    text: str
    usage: bool | dict


@dataclass
class _Failure:
    status: int
    body: Any
    retry_after: float | None


@dataclass
class Received:
    """One request as the server saw it (beside `requests`, which holds only bodies)."""

    path: str
    headers: dict[str, str]
    body: dict
    client_port: int  # the same port twice: the client reused a pooled connection


@dataclass(frozen=True)
class ReceivedImage:
    """An image a chat request carried: an OpenAI `image_url` data URL or an Anthropic `image` block."""

    kind: str  # "image_url" or "image"
    media_type: str
    data: bytes


def _images_of(body: dict) -> list[ReceivedImage]:
    found = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                head, _, data = url.partition(",")
                media_type = head.removeprefix("data:").removesuffix(";base64")
                found.append(ReceivedImage("image_url", media_type, base64.b64decode(data)))
            elif part.get("type") == "image":
                source = part.get("source") or {}
                data = base64.b64decode(source.get("data", ""))
                found.append(ReceivedImage("image", source.get("media_type", ""), data))
    return found


@dataclass
class ModelServer:
    host: str = "127.0.0.1"
    requests: list[dict] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    # Streams the client abandoned before the end, and the chunks each had been sent.
    disconnects: list[int] = field(default_factory=list)
    # Completion streams currently open (the benchmark and cancel tests read it).
    open_streams: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: deque[_Reply] = deque()
        self._failures: deque[_Failure] = deque()
        self._first_token_delay = 0.0
        self._token_delay = 0.0
        self._port = 0
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> ModelServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it, Nagle holds each small SSE chunk
        # until the client's delayed ACK (40 ms), as no real provider does.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app, log_level="warning", lifespan="off", access_log=False, http="httptools",
            loop="asyncio", interface="asgi3", timeout_graceful_shutdown=1,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        started = threading.Event()

        def run() -> None:
            async def serve() -> None:
                serving = asyncio.ensure_future(self._server.serve(sockets=[sock]))
                while not self._server.started and not serving.done():
                    await asyncio.sleep(0.005)
                started.set()
                await serving

            asyncio.run(serve())

        self._thread = threading.Thread(target=run, name=f"model-server-{self._port}", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("The loopback model server did not start within 10 s.")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}/v1"

    # --- scripting ------------------------------------------------------------------

    def reply(self, text: str, *, times: int = 1, usage: bool | dict = True) -> None:
        with self._lock:
            self._replies.extend(_Reply(text, usage) for _ in range(times))

    def fail(self, status: int = 500, *, times: int = 1, body: Any = None, retry_after: float | None = None) -> None:
        with self._lock:
            self._failures.extend(_Failure(status, body, retry_after) for _ in range(times))

    def slow(self, first_token_delay: float = 0.0, token_delay: float = 0.0) -> None:
        with self._lock:
            self._first_token_delay, self._token_delay = first_token_delay, token_delay

    def images_received(self) -> list[ReceivedImage]:
        """Every image part the chat requests carried, in order."""
        with self._lock:
            bodies = list(self.requests)
        return [image for body in bodies for image in _images_of(body)]

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self._failures.clear()
            self._first_token_delay = self._token_delay = 0.0
            self.requests.clear()
            self.received.clear()
            self.disconnects.clear()

    # --- the ASGI app ---------------------------------------------------------------

    async def _app(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            await _send_json(send, 400, {"error": {"message": "The body is not JSON.", "type": "invalid_request"}})
            return
        path = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            self.requests.append(body)
            self.received.append(Received(path, headers, body, (scope.get("client") or ("", 0))[1]))
            failure = self._failures.popleft() if self._failures else None
            first_delay, token_delay = self._first_token_delay, self._token_delay
        if failure is not None:
            await self._send_failure(send, path, failure)
            return
        if scope["method"] != "POST":
            await _send_json(send, 405, {"error": {"message": "POST only.", "type": "invalid_request"}})
        elif path == "/v1/chat/completions":
            await self._chat(body, receive, send, first_delay, token_delay)
        elif path == "/v1/messages":
            await self._messages(body, receive, send, first_delay, token_delay)
        elif path == "/v1/images/generations":
            await _send_json(send, 200, _images(body))
        elif path == "/v1/embeddings":
            if await _pause(receive, first_delay):
                await _send_json(send, 200, _embeddings(body))
        else:
            await _send_json(send, 404, {"error": {"message": f"No route {path}.", "type": "not_found"}})

    async def _send_failure(self, send, path: str, failure: _Failure) -> None:
        body = failure.body
        if body is None:
            message = f"Scripted failure {failure.status}."
            if path == "/v1/messages":
                body = {"type": "error", "error": {"type": "api_error", "message": message}}
            else:
                body = {"error": {"message": message, "type": "server_error", "code": None}}
        extra = [(b"retry-after", str(failure.retry_after).encode())] if failure.retry_after is not None else []
        await _send_json(send, failure.status, body, extra)

    def _next_reply(self, messages: list[dict]) -> _Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        return _Reply("Echo: " + _text_of(last_user.get("content", "")), True)

    async def _chat(self, body: dict, receive, send, first_delay: float, token_delay: float) -> None:
        messages = body.get("messages") or []
        reply = self._next_reply(messages)
        pieces = _WORD.findall(reply.text)
        usage = _usage(reply, _prompt_tokens(messages), len(pieces))
        model = body.get("model", "loopback")
        created = int(time.time())
        if not body.get("stream"):
            if not await _pause(receive, first_delay):
                return
            answer = {
                "id": "chatcmpl-loopback", "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                             "finish_reason": "stop"}],
            }  # fmt: skip
            if usage is not None:
                answer["usage"] = usage
            await _send_json(send, 200, answer)
            return

        def chunk(delta: dict, finish: str | None = None) -> bytes:
            payload = {
                "id": "chatcmpl-loopback", "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }  # fmt: skip
            return b"data: " + json.dumps(payload).encode() + b"\n\n"

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": piece}) for piece in pieces]
        events.append(chunk({}, "stop"))
        if usage is not None and (body.get("stream_options") or {}).get("include_usage"):
            final = {"id": "chatcmpl-loopback", "object": "chat.completion.chunk", "created": created,
                     "model": model, "choices": [], "usage": usage}  # fmt: skip
            events.append(b"data: " + json.dumps(final).encode() + b"\n\n")
        events.append(b"data: [DONE]\n\n")
        # The role chunk goes out with the first token, as real servers do.
        await self._stream(receive, send, [events[0] + events[1], *events[2:]], first_delay, token_delay)

    async def _messages(self, body: dict, receive, send, first_delay: float, token_delay: float) -> None:
        messages = body.get("messages") or []
        reply = self._next_reply(messages)
        pieces = _WORD.findall(reply.text)
        prompt = _prompt_tokens(messages) + len(_text_of(body.get("system", "")).split())
        usage = _usage(reply, prompt, len(pieces))
        tokens_in = usage["prompt_tokens"] if usage else 0
        tokens_out = usage["completion_tokens"] if usage else 0
        model = body.get("model", "loopback")
        if not body.get("stream"):
            if not await _pause(receive, first_delay):
                return
            await _send_json(send, 200, {
                "id": "msg_loopback", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": reply.text}], "stop_reason": "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
            })  # fmt: skip
            return

        def event(name: str, data: dict) -> bytes:
            return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

        start = event("message_start", {"type": "message_start", "message": {
            "id": "msg_loopback", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "usage": {"input_tokens": tokens_in, "output_tokens": 1}}})  # fmt: skip
        start += event("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {"type": "text", "text": ""}})  # fmt: skip
        start += event("ping", {"type": "ping"})
        deltas = [
            event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
            )  # fmt: skip
            for piece in pieces
        ]
        end = event("content_block_stop", {"type": "content_block_stop", "index": 0})
        end += event("message_delta", {"type": "message_delta",
                                       "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                       "usage": {"output_tokens": tokens_out}})  # fmt: skip
        end += event("message_stop", {"type": "message_stop"})
        if deltas:
            deltas[0] = start + deltas[0]
        else:
            deltas = [start]
        await self._stream(receive, send, [*deltas, end], first_delay, token_delay)

    async def _stream(self, receive, send, events: list[bytes], first_delay: float, token_delay: float) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        with self._lock:
            self.open_streams += 1
        sent, complete = 0, False
        try:
            for i, data in enumerate(events):
                delay = first_delay if i == 0 else token_delay
                if delay:
                    try:
                        await asyncio.wait_for(gone.wait(), delay)
                    except TimeoutError:
                        pass
                if gone.is_set():
                    break
                await send({"type": "http.response.body", "body": data, "more_body": True})
                sent += 1
            else:
                complete = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            with self._lock:
                self.open_streams -= 1
                if not complete:
                    self.disconnects.append(sent)


async def _pause(receive, seconds: float) -> bool:
    """Wait `seconds` before answering; False when the client went away meanwhile."""
    if seconds <= 0:
        return True
    try:
        await asyncio.wait_for(receive(), seconds)  # after the body, only a disconnect arrives
    except TimeoutError:
        return True
    return False


async def _send_json(send, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _text_of(content: Any) -> str:
    """Message content as text: a string, or OpenAI/Anthropic content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _prompt_tokens(messages: list[dict]) -> int:
    return sum(len(_text_of(m.get("content", "")).split()) for m in messages)


def _usage(reply: _Reply, prompt_tokens: int, completion_tokens: int) -> dict | None:
    if reply.usage is False:
        return None
    if isinstance(reply.usage, dict):
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, **reply.usage}
    else:
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage


def _embeddings(body: dict) -> dict:
    """Deterministic unit vectors derived from a hash of each text."""
    texts = body.get("input", [])
    texts = [texts] if isinstance(texts, str) else list(texts)
    size = int(body.get("dimensions") or 8)
    data = []
    for index, text in enumerate(texts):
        digest = hashlib.sha256(str(text).encode()).digest()
        raw = [(digest[i % len(digest)] + i) % 251 - 125.0 for i in range(size)]
        norm = math.sqrt(sum(x * x for x in raw)) or 1.0
        data.append({"object": "embedding", "index": index, "embedding": [x / norm for x in raw]})
    tokens = sum(len(str(t).split()) for t in texts)
    return {"object": "list", "data": data, "model": body.get("model", "loopback"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}  # fmt: skip


def _images(body: dict) -> dict:
    """OpenAI's images API with `response_format: b64_json`: `n` small real PNGs."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 160, 90)).save(out, format="PNG")
    data = base64.b64encode(out.getvalue()).decode()
    return {"created": int(time.time()), "data": [{"b64_json": data} for _ in range(int(body.get("n") or 1))]}
