"""The API's rate limits, counted in the real Redis (apps.core.api.throttling)."""

from types import SimpleNamespace
from uuid import uuid4

import pytest
from django.core.cache import cache

from apps.core.api.throttling import RequestRateThrottle, UserRateThrottle
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


def _evalsha_calls(redis_server) -> int:
    return redis_server.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)


def _window(scope, ident) -> int:
    return cache.redis_client().zcard(cache.make_key(f"throttle_{scope}_{ident}"))


def test_a_request_counts_its_user_and_scope_windows_in_one_round_trip(redis_server):
    user_id = uuid4().int % 10**9
    money_view = SimpleNamespace(throttle_scope="money")
    assert RequestRateThrottle().allow_request(request_of(user_id + 1), money_view)  # loaded
    before = _evalsha_calls(redis_server)
    assert RequestRateThrottle().allow_request(request_of(user_id), money_view)
    assert _evalsha_calls(redis_server) - before == 1  # DRF's classes: one per rate
    assert (_window("user", user_id), _window("money", user_id)) == (1, 1)
    assert _window("anon", user_id) == 0  # the anonymous rate is not an authenticated user's
    for key in ("user", "money"):
        cache.delete(f"throttle_{key}_{user_id}")
        cache.delete(f"throttle_{key}_{user_id + 1}")


def test_a_full_scope_refuses_and_waits_while_the_user_rate_still_counts(redis_server, settings):
    rest = {**settings.REST_FRAMEWORK}
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "money": "2/min"}
    settings.REST_FRAMEWORK = rest
    user_id = uuid4().int % 10**9
    clock = iter([1000.0, 1010.0, 1020.0])
    money_view, plain_view = SimpleNamespace(throttle_scope="money"), SimpleNamespace()

    def ask(view):
        throttle = RequestRateThrottle()
        throttle.timer = lambda: next(clock)
        return throttle.allow_request(request_of(user_id), view), throttle.wait()

    assert [ask(money_view), ask(money_view), ask(money_view)] == [
        (True, None),
        (True, None),
        (False, 40),  # at 1020 the request of 1000 has 40 s left in the minute
    ]
    assert (_window("user", user_id), _window("money", user_id)) == (3, 2)
    plain = RequestRateThrottle().allow_request(request_of(user_id), plain_view)
    assert plain  # the money scope does not throttle the user's other requests
    for key in ("user", "money"):
        cache.delete(f"throttle_{key}_{user_id}")
