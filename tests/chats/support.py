"""A loopback model server that fails in the middle of an answer."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.model_server import ModelServer

ERROR_CHUNK = b'data: {"error": {"message": "upstream overloaded", "type": "server_error"}}\n\n'


@dataclass
class BreakingModelServer(ModelServer):
    """Streams the first `break_after` events of an answer (the first carries the
    role and the first word), then an error chunk, as OpenAI does when it fails
    mid-stream. `break_after=None` streams normally."""

    break_after: int | None = None

    async def _stream(self, receive, send, events, first_delay, token_delay) -> None:
        if self.break_after is not None:
            events = [*events[: self.break_after], ERROR_CHUNK]
        await super()._stream(receive, send, events, first_delay, token_delay)
