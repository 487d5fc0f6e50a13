"""DRF throttles on the Redis cache that fail open when Redis is away.

General request-rate throttles protect capacity, not money or accounts: with Redis down they
let requests through (logged) rather than turn every API call into a 500. Security throttles
(login, OTP) must fail closed instead; they are built on `FailClosedMixin`.
"""

import logging
import os
from typing import Any

from redis import RedisError
from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from apps.core.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class FailOpenMixin:
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except RedisError as exc:
            log.warning("throttle %s skipped, cache unavailable: %s", type(self).__name__, exc)
            return True


class FailClosedMixin:
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except RedisError as exc:
            log.error("throttle %s refusing, cache unavailable: %s", type(self).__name__, exc)
            raise ServiceUnavailable(retry_after=30) from exc


# DRF's window (at most N requests in any trailing period), kept as a sorted set of request
# times: drop the expired, count, add, in one round trip and atomically. DRF reads the list of
# times and writes it back: two round trips per rate (a transfer's two rates: 0.40 against
# 0.16 ms of CPU here), and racing requests overshot the rate (11-16 of 16 let in at 5 a
# minute; apps/core/tests/test_throttling.py). When full: the whole seconds until a place frees.
_WINDOW = """
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  return math.max(1, math.ceil(oldest + duration - now))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(duration))
return false
"""
_script: Any = None


class SlidingWindowThrottle(throttling.SimpleRateThrottle):
    """SimpleRateThrottle's rates and keys, counted by `_WINDOW` in the cache's Redis."""

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        client = self.cache.redis_client()
        global _script
        _script = _script or client.register_script(_WINDOW)  # EVALSHA, loaded when missing
        wait = _script(
            keys=[self.cache.make_key(self.key)],
            args=[self.now, self.duration, self.num_requests, os.urandom(8).hex()],
            client=client,
        )
        self.retry_after = wait
        return wait is None

    def wait(self) -> int | None:
        return self.retry_after


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle, SlidingWindowThrottle):
    pass


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle, SlidingWindowThrottle):
    pass


class ScopedRateThrottle(FailOpenMixin, throttling.ScopedRateThrottle, SlidingWindowThrottle):
    """Per-user rate for views that set `throttle_scope` (e.g. "money": transfers, deposits,
    withdrawals); a no-op for views without one. Rates are read per request, so a settings
    change (tests, an incident) applies without a restart of the class."""

    @property
    def THROTTLE_RATES(self) -> dict[str, str | None]:  # noqa: N802 - DRF's attribute name
        return api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[no-any-return]
