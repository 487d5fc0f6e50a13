"""The API's rate limits, counted in the real Redis (apps.core.api.throttling)."""

from types import SimpleNamespace
from uuid import uuid4

import pytest
from django.core.cache import cache

from apps.core.api.throttling import UserRateThrottle
from apps.core.testing import run_threads

pytestmark = pytest.mark.redis


class FiveAMinute(UserRateThrottle):
    rate = "5/min"


def request_of(user_id):
    return SimpleNamespace(user=SimpleNamespace(pk=user_id, is_authenticated=True), META={})


def test_racing_requests_get_exactly_the_rate(redis_server):
    """Counting is one atomic step: 16 requests at once, 5 let in (reading the count and
    writing it back, as DRF's throttle does, lets racing requests all read the same count)."""
    user_id = uuid4().int % 10**9

    def ask(n):
        try:
            return FiveAMinute().allow_request(request_of(user_id), view=None)
        finally:  # each thread has its own cache and pool; Django leaves pools open
            cache.redis_client().connection_pool.disconnect()

    results, failures = run_threads(16, ask)
    assert failures == []
    assert results.count(True) == 5
    cache.delete(f"throttle_user_{user_id}")


def test_the_wait_is_until_the_oldest_request_leaves_the_window(redis_server):
    user_id = uuid4().int % 10**9
    clock = iter([1000.0, 1010.0, 1020.0, 1030.0, 1040.0, 1045.0, 1061.0])
    throttle = FiveAMinute()
    throttle.timer = lambda: next(clock)
    allowed = [throttle.allow_request(request_of(user_id), view=None) for _ in range(6)]
    assert allowed == [True] * 5 + [False]
    assert throttle.wait() == 15  # at 1045 the request of 1000 has 15 s left in the window
    assert throttle.allow_request(request_of(user_id), view=None)  # at 1061 it has left
    cache.delete(f"throttle_user_{user_id}")
