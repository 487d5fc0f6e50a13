from collections.abc import Callable

import pytest
from django.conf import settings


@pytest.fixture
def forget_attempts(redis_server) -> Callable[[], None]:
    """Forget allauth's counted attempts (as if their windows had passed): only this run's
    keys, by its cache prefix."""

    def forget() -> None:
        pattern = f"{settings.CACHES['default']['KEY_PREFIX']}:*allauth*"
        keys = list(redis_server.scan_iter(match=pattern, count=1000))
        if keys:
            redis_server.delete(*keys)

    return forget


@pytest.fixture(autouse=True)
def _fresh_rate_limits(forget_attempts) -> None:
    """Attempts live in Redis, which outlives each test's rolled-back transaction."""
    forget_attempts()
