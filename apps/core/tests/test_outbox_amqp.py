"""The outbox with RabbitMQ away: the after-commit send gives up quickly and leaves the row
for the sweeper, whether the broker refuses connections or accepts them and never answers."""

import socket
import time

import pytest
from celery import Celery
from django.db import transaction

from apps.core.events import publish
from apps.core.models import OutboxEvent
from apps.core.tests.events import SomethingHappened, seen
from finstack.celery import app as celery_app
from finstack.settings import broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_port():
    """A port that accepts TCP and never says a word (a hung broker)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def amqp_producer(url):
    down = Celery("finstack-amqp-down", broker=url, set_as_current=True)
    down.conf.update(
        broker_transport_options=broker.amqp_transport_options(),
        task_default_queue=celery_app.conf.task_default_queue,
        task_default_queue_type="quorum",
        task_default_exchange_type="topic",
    )
    return down


@pytest.mark.parametrize("away", ["refused", "silent"])
def test_rabbitmq_away_leaves_the_event_for_the_sweeper_quickly(
    away, silent_port, django_capture_on_commit_callbacks
):
    port = 1 if away == "refused" else silent_port
    amqp_producer(f"amqp://guest:guest@127.0.0.1:{port}//")
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            event_id = publish(SomethingHappened(label="later"))
        elapsed = time.monotonic() - started
    finally:
        celery_app.set_current()
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.dispatched_at is None
    assert row.last_error
    assert seen == []
    # Refused: at once. Silent: connect_timeout (1 s) for each of the two attempts.
    assert elapsed < (0.5 if away == "refused" else 3.0)


@pytest.fixture
def rabbitmq_url():
    import os

    import kombu

    url = "amqp://guest:guest@127.0.0.1:5672//"
    try:
        with kombu.Connection(url, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - whatever the reason, it is not there
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have RabbitMQ at {url}: {exc}")
        pytest.skip(f"no RabbitMQ reachable at {url}: {exc}")
    return url


@pytest.mark.rabbitmq
def test_a_broker_closing_the_channel_leaves_the_event_for_the_sweeper(
    rabbitmq_url, django_capture_on_commit_callbacks
):
    """A queue declared otherwise (a classic one left from before) makes RabbitMQ close the
    channel: py-amqp raises its own PreconditionFailed, neither a KombuError nor an OSError."""
    import uuid

    import kombu

    queue = f"outbox-classic-{uuid.uuid4().hex[:12]}"
    with kombu.Connection(rabbitmq_url) as conn:
        kombu.Queue(queue, kombu.Exchange(queue, type="topic"), queue)(
            conn.default_channel
        ).declare()
    down = amqp_producer(rabbitmq_url)
    down.conf.task_default_queue = queue
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            event_id = publish(SomethingHappened(label="refused"))
    finally:
        celery_app.set_current()
        with kombu.Connection(rabbitmq_url) as conn:
            conn.default_channel.queue_delete(queue)
            conn.default_channel.exchange_delete(queue)
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.dispatched_at is None
    assert "PRECONDITION_FAILED" in row.last_error
    assert seen == []
