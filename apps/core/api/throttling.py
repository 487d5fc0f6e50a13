"""DRF throttles on the Redis cache that fail open when Redis is away.

Request-rate throttles protect capacity, not money or accounts: with Redis down they let
requests through (logged) rather than turn every API call into a 500. Login and code attempts
are limited by allauth's rate limits, which fail closed with a 503
(`apps.accounts.middleware.AllauthMiddleware`), and on the admin by django-axes.
"""

import logging
import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from redis import RedisError
from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from apps.core.api.machine import principal

log = logging.getLogger(__name__)


class FailOpenMixin:
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc, no-any-return]
        except RedisError as exc:
            log.warning("throttle %s skipped, cache unavailable: %s", type(self).__name__, exc)
            return True


# DRF's window (at most N requests in any trailing period), kept as a sorted set of request
# times: drop the expired, count, add, in one round trip and atomically. DRF reads the list of
# times and writes it back: two round trips per rate, and racing requests overshot the rate
# (apps/core/tests/test_throttling.py). One run counts every window of a request, each
# on its own as DRF's throttles do one after another; a refused request waits for the longest
# (the whole seconds until a place frees). ARGV: now, a token, then duration and limit per key.
# Several keys in one script need one Redis, not a cluster (as Celery's broker does).
_WINDOWS = """
local now, token, wait = tonumber(ARGV[1]), ARGV[2], false
for i, key in ipairs(KEYS) do
  local duration, limit = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - duration)
  if redis.call('ZCARD', key) >= limit then
    local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
    local left = math.max(1, math.ceil(oldest + duration - now))
    if not wait or left > wait then wait = left end
  else
    redis.call('ZADD', key, now, token)
    redis.call('EXPIRE', key, math.ceil(duration))
  end
end
return wait
"""
_script: Any = None


def _count(cache: Any, windows: list[tuple[str, int, int]], now: float) -> int | None:
    """Count a request in each (key, duration, limit) window: None, or the seconds to wait."""
    client = cache.redis_client()
    global _script
    _script = _script or client.register_script(_WINDOWS)  # EVALSHA, loaded when missing
    args: list[Any] = [now, os.urandom(8).hex()]
    for _key, duration, limit in windows:
        args += [duration, limit]
    return _script(  # type: ignore[no-any-return]
        keys=[cache.make_key(key) for key, _, _ in windows], args=args, client=client
    )


class SlidingWindowThrottle(throttling.SimpleRateThrottle):
    """SimpleRateThrottle's rates and keys, counted by `_WINDOWS` in the cache's Redis."""

    num_requests: int  # set with the rate, by SimpleRateThrottle.__init__
    duration: int

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.retry_after = _count(
            self.cache, [(self.key, self.duration, self.num_requests)], self.now
        )
        return self.retry_after is None

    def wait(self) -> int | None:
        return self.retry_after


class _RequestRates(SlidingWindowThrottle):
    def __init__(self) -> None:  # no single rate: each window's is read per request
        self.retry_after: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        user = request.user
        authenticated = bool(user and user.is_authenticated)
        ident: object = user.pk if authenticated else self.get_ident(request)
        scopes = ["user"] if authenticated else ["anon", "user"]
        caller = principal(request)
        if caller is not None:  # an API key: its own rate, counted per key
            ident, scopes = caller.key_id, ["key"]
            rates = {**rates, "key": caller.rate}
        scope = getattr(view, "throttle_scope", None)
        if scope:
            if scope not in rates:
                raise ImproperlyConfigured(f"No default throttle rate set for '{scope}' scope")
            scopes.append(scope)
        windows: list[tuple[str, int, int]] = []
        for name in scopes:
            limit, duration = self.parse_rate(rates.get(name))
            if limit is not None and duration is not None:  # both or neither
                windows.append(
                    (self.cache_format % {"scope": name, "ident": ident}, duration, limit)
                )
        self.retry_after = _count(self.cache, windows, self.timer()) if windows else None
        return self.retry_after is None


class RequestRateThrottle(FailOpenMixin, _RequestRates):
    """The API's default rates in one Redis round trip: "anon" (by client address, anonymous
    requests only), "user" (by user, or by address when anonymous) and the view's
    `throttle_scope` rate (e.g. "money": transfers, deposits and withdrawals together). The
    keys and windows of DRF's AnonRateThrottle, UserRateThrottle and ScopedRateThrottle,
    which made a round trip each. Rates are read per request, so a settings change (tests, an
    incident) applies without a restart."""


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle, SlidingWindowThrottle):
    pass


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle, SlidingWindowThrottle):
    pass
