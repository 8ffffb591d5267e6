"""Streamed completions: iterate for text pieces; `.completion` holds the result
once the stream is exhausted or closed. The usage record is written once, then.

Close a stream you stop reading (`close()`, `await aclose()`, or use it as a
context manager): closing cancels the upstream request and records what was
generated so far as a cancelled call.

With an `output_guard`, the whole text is checked once more before it is metered:
a blocked answer (also one the caller blocked: `close(blocked=True)`) is recorded
as "blocked" and charged nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

from channels.db import database_sync_to_async

from .calls import BLOCKED, CANCELLED, ERROR, OK, Call, error_text, finish
from .providers.base import ChatResult
from .types import Completion


class CompletionStream:
    """Sync iterator of str pieces. The provider is asked on the first `next()`."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._result = ChatResult()
        self._pieces: list[str] = []
        self._source: Iterator[str] | None = None
        self._done = False
        self.completion: Completion | None = None

    def __iter__(self) -> CompletionStream:
        return self

    def __next__(self) -> str:
        if self._done:
            raise StopIteration
        if self._source is None:
            self._source = self._call.provider.stream(self._call.request, self._result)
        try:
            piece = next(self._source)
        except StopIteration:
            self._end(OK)
            raise
        except Exception as exc:
            self._end(ERROR, error_text(exc))
            raise
        self._pieces.append(piece)
        return piece

    def close(self, *, blocked: bool = False) -> None:
        """Stop reading: close the upstream response, record the call as cancelled
        (as blocked, charged nothing, when the caller's guard stopped it)."""
        if self._done:
            return
        started = self._source is not None
        if started:
            self._source.close()
        self._end(BLOCKED if blocked else CANCELLED, started=started)

    def __enter__(self) -> CompletionStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def _end(self, status: str, error: str = "", *, started: bool = True) -> None:
        self._done = True  # before recording: a failed record must not be retried by close()
        status = _guarded(self._call, status, self.text)
        self.completion = finish(self._call, self._result, self.text, status=status, error=error, started=started)


def _guarded(call: Call, status: str, text: str) -> str:
    """BLOCKED when the call's output guard refuses the whole text it ended with."""
    if status in (OK, CANCELLED) and text and call.output_guard is not None and call.output_guard(text):
        return BLOCKED
    return status


def _finish_guarded(call: Call, result, text: str, status: str, error: str) -> Completion:
    return finish(call, result, text, status=_guarded(call, status, text), error=error)


class AsyncCompletionStream:
    """Async iterator of str pieces. The registry lookup and the shut-off guard run
    (through database_sync_to_async) on the first `__anext__`, so ModelUnavailable and the
    403 of a shut-off account raise there."""

    def __init__(self, prepare: Callable[[], Call]) -> None:
        self._prepare = prepare
        self._call: Call | None = None
        self._result = ChatResult()
        self._pieces: list[str] = []
        self._source: AsyncIterator[str] | None = None
        self._done = False
        self.completion: Completion | None = None

    def __aiter__(self) -> AsyncCompletionStream:
        return self

    async def __anext__(self) -> str:
        if self._done:
            raise StopAsyncIteration
        if self._call is None:
            self._call = await database_sync_to_async(self._prepare)()
            self._source = self._call.provider.astream(self._call.request, self._result)
        try:
            piece = await anext(self._source)
        except StopAsyncIteration:
            await self._end(OK)
            raise
        except asyncio.CancelledError:
            # The reading task was cancelled (a closed websocket): close upstream, record.
            await self.aclose()
            raise
        except Exception as exc:
            await self._end(ERROR, error_text(exc))
            raise
        self._pieces.append(piece)
        return piece

    async def aclose(self, *, blocked: bool = False) -> None:
        """Stop reading: close the upstream response, record the call as cancelled
        (as blocked, charged nothing, when the caller's guard stopped it)."""
        if self._done:
            return
        if self._call is None:  # never started: no call was made, nothing to record
            self._done = True
            return
        await self._source.aclose()
        await self._end(BLOCKED if blocked else CANCELLED)

    async def __aenter__(self) -> AsyncCompletionStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    async def _end(self, status: str, error: str = "") -> None:
        self._done = True
        # The guard's last look at the whole text runs with the metering, off the event loop.
        self.completion = await database_sync_to_async(_finish_guarded)(
            self._call, self._result, self.text, status, error
        )
