"""DRF throttles on the Redis cache that fail open when Redis is away.

General request-rate throttles protect capacity, not money or accounts: with Redis down they
let requests through (logged) rather than turn every API call into a 500. Security throttles
(login, OTP) must fail closed instead; they are built on `FailClosedMixin`.
"""

import logging
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


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(FailOpenMixin, throttling.ScopedRateThrottle):
    """Per-user rate for views that set `throttle_scope` (e.g. "money": transfers, deposits,
    withdrawals); a no-op for views without one. Rates are read per request, so a settings
    change (tests, an incident) applies without a restart of the class."""

    @property
    def THROTTLE_RATES(self) -> dict[str, str | None]:  # noqa: N802 - DRF's attribute name
        return api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[no-any-return]
