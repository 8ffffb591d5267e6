"""One Redis client per concern and process (aiplatform/redis_clients.py)."""

from __future__ import annotations

import asyncio

import pytest
from django.test import override_settings

from aiplatform import ratelimit, redis_clients
from chats.services import ratelimits as chat_limits


def test_every_module_shares_the_one_cache_client():
    assert redis_clients.client() is redis_clients.client("cache")
    assert ratelimit._client() is redis_clients.client()
    assert chat_limits.redis_client() is redis_clients.client()
    assert redis_clients.client().ping()


def test_a_concern_moved_to_another_url_gets_its_own_client():
    with override_settings(TRACKING_REDIS_URL="redis://127.0.0.1:1/9"):
        assert redis_clients.client("tracking") is not redis_clients.client("cache")
        assert redis_clients.client("tracking").connection_pool.connection_kwargs["db"] == 9


def test_an_unknown_concern_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown Redis concern 'queue'"):
        redis_clients.client("queue")


def test_each_event_loop_has_its_own_async_client_reused_within_it():
    async def twice():
        first = redis_clients.async_client()
        assert await first.ping()
        return first, redis_clients.async_client()

    a1, a2 = asyncio.run(twice())
    b1, _ = asyncio.run(twice())
    assert a1 is a2
    assert b1 is not a1


def test_canvas_queue_builder_and_tracker_share_the_process_clients():
    from canvas.services import queue
    from canvas.services.builder import frames
    from canvas.tracking import stream

    assert queue.redis_client() is redis_clients.client("cache")
    assert frames._client() is redis_clients.client("cache")
    assert stream.redis_client() is redis_clients.client("tracking")
    assert queue._acquire_script(queue.redis_client()) is queue._acquire_script(redis_clients.client())
