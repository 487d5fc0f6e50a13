"""Fixtures shared by every app's tests: API clients and the real Redis."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import redis
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

# Every log line of the run is checked for secrets and PII (tests/security/pii.py).
pytest_plugins = ["tests.security.pii"]


@pytest.fixture(autouse=True)
def _fresh_risk_rules() -> None:
    """Risk rows are cached per process as in production; each test starts from its own rows."""
    from apps.core import risk

    risk.forget()


@pytest.fixture(autouse=True)
def _chart_of_accounts(request: pytest.FixtureRequest) -> None:
    """System ledger accounts, KYC tiers and staff roles come from migrations; a transactional
    test's flush removes them, so put them back for any test that uses the database."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    request.getfixturevalue(
        "transactional_db" if marker and marker.kwargs.get("transaction") else "db"
    )
    from apps.kyc import services as kyc_services
    from apps.kyc.models import Tier
    from apps.ledger import services as ledger_services
    from apps.ledger.models import Account

    if not Account.objects.exists():
        ledger_services.chart_ensure()
    if not Tier.objects.exists():
        kyc_services.tiers_ensure()
    from django.contrib.auth.models import Group

    from apps.accounts import services as accounts_services

    if not Group.objects.exists():
        accounts_services.roles_ensure()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def auth_client() -> Callable[[object], APIClient]:
    def make(user: object) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def redis_server() -> redis.Redis:
    """The real Redis of this run. Skips only when none can be had, and never in CI."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have Redis at {settings.REDIS_URL}: {exc}")
        pytest.skip(f"no Redis reachable at {settings.REDIS_URL}: {exc}")
    return client


@pytest.fixture
def dead_redis_url() -> str:
    """A Redis URL where nothing listens: Redis is really down for the code under test."""
    return "redis://127.0.0.1:1/0"


def staff_login(client: Client, user: object) -> Client:
    """Log a staff user into the admin as after password + TOTP (the admin requires both)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def otp_login() -> Callable[[Client, object], Client]:
    return staff_login


def _forget_allauth_attempts() -> None:
    pattern = f"{settings.CACHES['default']['KEY_PREFIX']}:*allauth*"
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
    try:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # no Redis: nothing was counted either


@pytest.fixture
def forget_attempts() -> Callable[[], None]:
    """Forget allauth's counted attempts (as if their windows had passed): only this run's
    keys, by its cache prefix."""
    return _forget_allauth_attempts


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """allauth counts attempts in Redis, which outlives each test's rolled-back transaction."""
    _forget_allauth_attempts()
