"""Redis really down (our own Valkey server, stopped, then started again on its port): reads,
and P2P transfers answer without a 5xx, login fails closed (503 + Retry-After), /readyz reports
Redis and stays 200 (degraded); the transfer's event waits in the outbox and, once Redis is
back, the sweeper and a real worker deliver it once.

Already covered elsewhere (with a URL where nothing listens): general throttles fail open and
a write keeps its event (apps/core/tests/test_redis_down.py), P2P transfer without Redis
(apps/wallets/tests/test_redis_down.py), sign-up/login fail closed
(apps/accounts/tests/test_limits_and_outages.py), /readyz (apps/core/tests/test_health.py)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.mobile import MobileClient
from apps.core import outbox
from apps.core.models import OutboxEvent, ProcessedEvent
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_wallet
from finstack.celery import app as celery_app
from tests.reliability.faults import Valkey, Worker, figure, producer, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def own_redis(settings, fault_queue):
    server = Valkey()
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    outbox.delivery._broker_down_until = 0.0
    yield server
    celery_app.set_current()
    outbox.delivery._broker_down_until = 0.0
    if server.server.is_running():
        server.stop()


def test_with_redis_down_money_moves_logins_fail_closed_and_events_arrive_once_after(
    own_redis, fault_queue, auth_client, tmp_path
):
    app = MobileClient()
    app.sign_up("rita@example.com")  # while Redis is up
    source, target = make_wallet(funded=1000), make_wallet()
    producer(own_redis.url, fault_queue)  # from here events really go to our Redis
    own_redis.stop()  # Redis is down from here

    started = time.monotonic()
    assert app.call("get", "/api/v1/me").status_code == 200
    assert app.call("get", "/api/v1/wallets").status_code == 200
    login = MobileClient().log_in("rita@example.com")
    assert login.status_code == 503
    assert int(login["Retry-After"]) > 0
    reset = MobileClient().call("post", "/auth/password/request", {"email": "rita@example.com"})
    assert reset.status_code == 503  # the code request throttle fails closed too
    ready = app.http.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")  # still serving
    assert ready.json()["checks"]["redis"].startswith("unavailable")
    client = auth_client(source.owner)
    transfer = client.post(
        "/api/v1/transfers",
        {
            "source_wallet": str(source.pk),
            "destination": str(target.pk),
            "amount": 300,
            "currency": "EUR",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="redis-down",
    )
    assert transfer.status_code == 201
    assert client.get(f"/api/v1/wallets/{source.pk}").status_code == 200
    figure("redis_down", "seconds_for_requests_while_down", round(time.monotonic() - started, 1))
    assert (balance_of(source), balance_of(target)) == (700, 300)
    event = OutboxEvent.objects.get(type="wallets.transfer_completed")
    assert event.dispatched_at is None  # waits in the outbox
    handlers = sorted(outbox.handlers_for(event.type))
    assert handlers

    own_redis.start()  # Redis is back (empty: persistence off)
    worker = Worker(
        broker_url=own_redis.url,
        queue=fault_queue,
        faults_dir=tmp_path,
        log=tmp_path / "worker.log",
    )
    worker.start()
    try:
        outbox.delivery._broker_down_until = 0.0  # this process's breaker has timed out
        OutboxEvent.objects.filter(dispatched_at__isnull=True).update(
            created_at=timezone.now() - timedelta(minutes=1),
            next_attempt_at=timezone.now() - timedelta(seconds=1),
        )
        assert outbox.sweep() >= 1
        done = ProcessedEvent.objects.filter(event_id=event.pk)
        assert wait_for(lambda: done.count() == len(handlers)), worker.log.read_text()[-3000:]
        outbox.dispatch(event.pk, event.type)  # a duplicate send
        assert outbox.sweep() == 0  # nothing left to send
        time.sleep(1.5)
        assert sorted(done.values_list("handler", flat=True)) == handlers  # each once
        event.refresh_from_db()
        assert event.dispatched_at is not None
    finally:
        worker.stop()
