"""Server-Sent Events for clients without websockets: the same frames as the
socket, one event each (`event: <type>`, `data: <frame as JSON>`).

The response body is an async iterator. Under ASGI, TenantMiddleware's
transaction (which stored the messages and the credit hold) has committed by
the time the body is read, and the body starts the answer then: the stream never
runs inside the request transaction, and the generation sets its own tenant
context for every write. A client that disconnects stops reading, not the
answer: it completes, is stored and charged, and shows up in the message list.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

from .services import generation
from .services.messages import Prepared

CONTENT_TYPE = "text/event-stream"


def event(frame: dict) -> bytes:
    return f"event: {frame['type']}\ndata: {json.dumps(frame, ensure_ascii=False)}\n\n".encode()


async def _events(prepared: Prepared) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[dict] = asyncio.Queue()
    sink = queue.put  # one bound method: `detach` compares identity
    gen = generation.registry().start(prepared, sink=sink)  # the question and placeholder frames come first
    try:
        while True:
            frame = await queue.get()
            yield event(frame)
            if frame["type"] in ("done", "error"):
                return
    finally:
        gen.detach(sink)


def answer_response(prepared: Prepared, *, status: int = 200) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_events(prepared), content_type=CONTENT_TYPE, status=status)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
    return response


class EventStreamRenderer(BaseRenderer):
    """Lets DRF accept `Accept: text/event-stream`; errors before the stream
    starts are one `error` event (with the HTTP status of the JSON API)."""

    media_type = CONTENT_TYPE
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        error = (data or {}).get("error") if isinstance(data, dict) else None
        if error is None:
            return event({"type": "data", **(data if isinstance(data, dict) else {"data": data})})
        return event({"type": "error", **error})
