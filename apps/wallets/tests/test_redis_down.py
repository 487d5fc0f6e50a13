"""Money keeps moving when Redis (cache, throttles, broker) is away."""

import pytest
from celery import Celery

from apps.core import outbox
from apps.core.models import OutboxEvent
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_wallet
from finstack.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings, dead_redis_url):
    settings.REDIS_URL = dead_redis_url
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": dead_redis_url,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    down = Celery("finstack-redis-down", broker=dead_redis_url, set_as_current=True)
    down.conf.broker_transport_options = celery_app.conf.broker_transport_options
    outbox.delivery._broker_down_until = 0.0
    yield
    celery_app.set_current()
    outbox.delivery._broker_down_until = 0.0


@pytest.fixture
def subscriber():
    """A subscriber to transfers, so the event must really be sent (removed afterwards)."""
    from apps.core import events
    from apps.wallets.events import TransferCompleted

    @events.subscribe(TransferCompleted)
    def notify_someone(event):
        pass

    yield
    events._handlers[TransferCompleted.name].pop(
        f"{notify_someone.__module__}.{notify_someone.__qualname__}"
    )


def test_p2p_transfer_works_without_redis_and_its_event_waits_in_the_outbox(
    auth_client, redis_down, subscriber, django_capture_on_commit_callbacks
):
    source, target = make_wallet(funded=1000), make_wallet()
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client(source.owner).post(
            "/api/v1/transfers",
            {
                "source_wallet": str(source.pk),
                "destination": str(target.pk),
                "amount": 300,
                "currency": "EUR",
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY="no-redis",
        )
    assert response.status_code == 201
    assert (balance_of(source), balance_of(target)) == (700, 300)
    event = OutboxEvent.objects.get(type="wallets.transfer_completed")
    assert event.dispatched_at is None  # left for the sweeper once Redis is back
    # The first send in the request failed and was noted; the breaker then skipped the rest.
    assert OutboxEvent.objects.exclude(last_error="").exists()
    assert auth_client(source.owner).get(f"/api/v1/wallets/{source.pk}").status_code == 200
