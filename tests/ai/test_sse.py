"""The server-sent events parser the providers stream through."""

from __future__ import annotations

from aiplatform.ai.providers.sse import Event, _events


def test_events_follow_the_spec():
    lines = [
        ": a comment", "event: message_start", 'data: {"a": 1}', "",
        "data: line one", "data:line two", "", "", "id: 7", "data: [DONE]",
    ]  # fmt: skip
    assert list(_events(lines)) == [
        Event("message_start", '{"a": 1}'),
        Event("message", "line one\nline two"),
        Event("message", "[DONE]"),  # the last event needs no blank line
    ]


def test_an_event_name_without_data_is_not_an_event():
    assert list(_events(["event: ping", "", "data: x", ""])) == [Event("message", "x")]
