"""`python tests/bench/_fast_provider.py <token_delay>`: a lean OpenAI-compatible
streaming provider on loopback for the load benchmark; prints its port, serves
until stdin closes.

The tests' model server (tests/support/model_server.py) speaks more of the API
but spends a task and a timeout per chunk; at thousands of chunks a second on two
cores it falls behind and becomes what the benchmark measures. This one answers
`POST /v1/chat/completions` (stream only) the same way — "Echo: " + the last user
message, one word per chunk, the role with the first word, usage when asked —
with each word due at a fixed time from the start of its answer (no drift), on
raw asyncio streams with uvloop.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import threading
import time

WORD = re.compile(r"\S+\s*|\s+")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(payload: dict) -> bytes:
    return _chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")


async def _answer(writer: asyncio.StreamWriter, body: dict, delay: float) -> None:
    messages = body.get("messages") or []
    last = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    pieces = WORD.findall("Echo: " + last)
    created, model = int(time.time()), body.get("model", "loopback")

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {"id": "chatcmpl-fast", "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip

    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                 b"transfer-encoding: chunked\r\n\r\n")  # fmt: skip
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, piece in enumerate(pieces):
        due = start + i * delay
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
        writer.write(_event(chunk(delta)))
        if writer.transport.is_closing():
            return
    tail = _event(chunk({}, "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
        usage = {"prompt_tokens": prompt, "completion_tokens": len(pieces), "total_tokens": prompt + len(pieces)}
        tail += _event({"id": "chatcmpl-fast", "object": "chat.completion.chunk", "created": created,
                        "model": model, "choices": [], "usage": usage})  # fmt: skip
    writer.write(tail + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
    await writer.drain()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = json.loads(await reader.readexactly(length)) if length else {}
            await _answer(writer, body, delay)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(delay: float) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(lambda r, w: _serve(r, w, delay), sock=sock, backlog=4096)
    print(sock.getsockname()[1], flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(done.set)), daemon=True).start()
    async with server:
        await done.wait()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main(float(sys.argv[1])))
    except ImportError:  # pragma: no cover
        asyncio.run(main(float(sys.argv[1])))
