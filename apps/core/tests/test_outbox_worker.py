"""The outbox through a real Celery worker on the real Redis broker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from apps.core import outbox
from apps.core.events import publish
from apps.core.models import OutboxEvent, ProcessedEvent
from apps.core.testing import wait_for
from apps.core.tests.events import SomethingHappened, failures_left, seen
from finstack.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def worker(redis_server):
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    app.conf.task_always_eager = True


def test_event_travels_through_redis_to_a_worker(worker):
    with transaction.atomic():
        publish(SomethingHappened(label="real"))
    assert wait_for(lambda: len(seen) == 2)
    assert sorted(seen) == [("first", "real"), ("second", "real")]
    assert OutboxEvent.objects.get().dispatched_at is not None


def test_event_lost_by_a_crash_is_delivered_once_by_the_sweeper(
    worker, crash_before_dispatch, age_outbox
):
    with transaction.atomic():
        event_id = publish(SomethingHappened(label="orphan"))
    time.sleep(0.3)
    assert seen == []
    outbox.delivery._broker_down_until = 0.0  # the process that restarts can send again
    age_outbox()
    assert outbox.sweep() == 1
    assert wait_for(lambda: len(seen) == 2)
    outbox.dispatch(event_id, SomethingHappened.name)  # a duplicate send
    time.sleep(0.5)
    assert sorted(seen) == [("first", "orphan"), ("second", "orphan")]


def test_failing_handler_is_retried_without_repeating_the_other(worker):
    failures_left["flaky"] = 2  # fails twice, then works (retries back off 1 s, then 2 s)
    with transaction.atomic():
        event_id = publish(SomethingHappened(label="flaky"))
    assert wait_for(lambda: len(seen) == 2, timeout=20)
    assert sorted(seen) == [("first", "flaky"), ("second", "flaky")]
    assert failures_left["flaky"] == 0
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 2
