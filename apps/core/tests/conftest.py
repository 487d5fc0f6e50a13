import math
from datetime import timedelta

import pytest
from celery import Celery
from django.utils import timezone

from apps.core import outbox
from apps.core.models import OutboxEvent
from apps.core.tests import events
from finstack.celery import app as celery_app


@pytest.fixture(autouse=True)
def _reset_recorders():
    events.seen.clear()
    events.failures_left.clear()
    outbox.delivery._broker_down_until = 0.0
    yield
    outbox.delivery._broker_down_until = 0.0


@pytest.fixture
def age_outbox():
    """Move every undispatched event past the sweeper's grace period (time passing)."""

    def age() -> None:
        OutboxEvent.objects.filter(dispatched_at__isnull=True).update(
            created_at=timezone.now() - timedelta(minutes=1),
            next_attempt_at=timezone.now() - timedelta(seconds=1),
        )

    return age


@pytest.fixture
def broker_down(dead_redis_url):
    """Celery's broker is a Redis where nothing listens (no eager shortcut)."""
    down = Celery("finstack-broker-down", broker=dead_redis_url, set_as_current=True)
    down.conf.broker_transport_options = celery_app.conf.broker_transport_options
    down.conf.task_default_queue = celery_app.conf.task_default_queue
    yield down
    celery_app.set_current()


@pytest.fixture
def crash_before_dispatch():
    """The process dies between commit and dispatch: no send happens from this process."""
    outbox.delivery._broker_down_until = math.inf
    yield
    outbox.delivery._broker_down_until = 0.0
