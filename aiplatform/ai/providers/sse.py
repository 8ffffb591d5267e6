"""Server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html),
read line by line from an httpx response: `event:` names the event, `data:`
lines are joined with newlines, a blank line dispatches, `:` lines are comments."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Event:
    name: str
    data: str


class _Parser:
    __slots__ = ("name", "data")

    def __init__(self) -> None:
        self.name = ""
        self.data: list[str] = []

    def feed(self, line: str) -> Event | None:
        if not line:
            if not self.data:
                self.name = ""
                return None
            event = Event(self.name or "message", "\n".join(self.data))
            self.name, self.data = "", []
            return event
        if line[0] == ":":
            return None
        field, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if field == "data":
            self.data.append(value)
        elif field == "event":
            self.name = value
        return None

    def flush(self) -> Event | None:
        return self.feed("") if self.data else None


def _events(lines: Iterable[str]) -> Iterator[Event]:
    parser = _Parser()
    for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event
    last = parser.flush()
    if last is not None:
        yield last


def iter_events(response: httpx.Response) -> Iterator[Event]:
    return _events(response.iter_lines())


async def aiter_events(response: httpx.Response) -> AsyncIterator[Event]:
    parser = _Parser()
    async for line in response.aiter_lines():
        event = parser.feed(line)
        if event is not None:
            yield event
    last = parser.flush()
    if last is not None:
        yield last
