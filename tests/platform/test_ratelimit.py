"""The Redis sliding-window limiter counts exactly the last `window` seconds."""

import time

from aiplatform import ratelimit


def test_the_event_over_the_limit_is_refused_with_a_wait_time():
    results = [ratelimit.hit("t:a", limit=3, window=60) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert 59 <= results[-1].retry_after <= 61
    assert ratelimit.peek("t:a", limit=3, window=60).allowed is False


def test_events_leave_the_window_as_it_slides():
    for _ in range(2):
        ratelimit.hit("t:b", limit=2, window=1)
    assert ratelimit.peek("t:b", limit=2, window=1).allowed is False
    time.sleep(1.1)
    assert ratelimit.peek("t:b", limit=2, window=1).allowed is True


def test_keys_are_independent():
    for _ in range(3):
        ratelimit.hit("t:c", limit=2, window=60)
    assert ratelimit.hit("t:d", limit=2, window=60).allowed is True
