"""The relay: committed events leave the committing thread at once and reach the broker in
batches, each handled once; with the broker away they wait for the sweeper."""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.db import transaction

from apps.core.events import dispatch_after_commit, publish
from apps.core.models import OutboxEvent, ProcessedEvent
from apps.core.outbox import relay
from apps.core.tasks import dispatch_events
from apps.core.tests.events import SomethingHappened, seen
from finstack.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def background(settings):
    settings.OUTBOX_DISPATCH = "background"
    yield
    assert relay.flush(timeout=10)


@pytest.fixture
def tasks_run():
    names: list[str] = []

    def record(sender=None, **kwargs):
        names.append(sender.name)

    task_prerun.connect(record, weak=False)
    yield names
    task_prerun.disconnect(record)


def publish_many(count: int, label: str = "e") -> list:
    with transaction.atomic():
        return [publish(SomethingHappened(label=f"{label}{n}")) for n in range(count)]


def test_a_batch_is_one_message_and_one_marking(tasks_run, monkeypatch):
    with transaction.atomic():  # committed rows, not yet dispatched (as the relay gets them)
        rows = [
            OutboxEvent.objects.create(type=SomethingHappened.name, payload={"label": f"b{n}"})
            for n in range(20)
        ]
    ids = [(row.pk, row.type) for row in rows]
    options: list[dict] = []
    real_apply_async = dispatch_events.apply_async

    def spy(*args, **kwargs):
        options.append(kwargs)
        return real_apply_async(*args, **kwargs)

    monkeypatch.setattr(dispatch_events, "apply_async", spy)
    assert relay.send(ids)
    assert tasks_run.count("core.dispatch_events") == 1
    # Logs and monitors show a count, not a repr of every id (costly for a whole batch).
    assert options[0]["argsrepr"] == "(20 events)"
    assert tasks_run.count("core.handle_event") == 40
    assert sorted(seen) == sorted([(h, f"b{n}") for n in range(20) for h in ("first", "second")])
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_commit_does_not_wait_for_the_broker_and_every_event_is_handled_once(background):
    threads: set[int] = set()

    def record(sender=None, **kwargs):
        threads.add(threading.get_ident())

    task_prerun.connect(record, weak=False)
    try:
        publish_many(30)
        assert relay.flush(timeout=10)
    finally:
        task_prerun.disconnect(record)
    assert threads  # sent by the relay thread, not the committing one
    assert threading.get_ident() not in threads
    assert len(seen) == 60
    assert ProcessedEvent.objects.count() == 60
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_a_quiet_event_goes_at_once_and_a_busy_interval_is_one_batch(
    background, tasks_run, monkeypatch
):
    monkeypatch.setattr(relay, "INTERVAL_SECONDS", 0.5)
    monkeypatch.setattr(relay, "_last_sent", 0.0)  # nothing sent for a long time
    start = time.monotonic()
    publish_many(1, "quiet")
    assert relay.flush(timeout=5)
    assert time.monotonic() - start < 0.25  # not held back by the interval
    for n in range(10):  # ten commits well within the next interval
        publish_many(1, f"busy{n}")
    assert relay.flush(timeout=5)
    assert tasks_run.count("core.dispatch_events") == 2  # the quiet one, then all ten
    assert len(seen) == 22
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def committed_rows(count: int, label: str) -> list[tuple]:
    """Events committed and handed to the relay, not yet sent."""
    with transaction.atomic():
        rows = [
            OutboxEvent.objects.create(
                type=SomethingHappened.name, payload={"label": f"{label}{n}"}
            )
            for n in range(count)
        ]
    return [(row.pk, row.type) for row in rows]


def test_a_batch_of_ids_from_sql_and_from_publish_is_marked_in_one_go(tasks_run):
    # The ledger's SQL hands over its event ids as text, publish() as UUIDs: one batch.
    (first, kind), second = committed_rows(2, "mixed")
    assert relay.send([(str(first), kind), second])
    assert sorted(seen) == sorted([(h, f"mixed{n}") for n in range(2) for h in ("first", "second")])
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_an_sql_written_event_is_handed_over_after_commit_or_at_once_outside(monkeypatch):
    handed: list[tuple] = []
    monkeypatch.setattr(relay, "enqueue", lambda *event: handed.append(event))
    with transaction.atomic():
        row = OutboxEvent.objects.create(type=SomethingHappened.name, payload={"label": "in"})
        dispatch_after_commit(str(row.pk), row.type)
        assert handed == []  # not before the row is committed
    assert handed == [(str(row.pk), row.type)]
    (outside, kind), *_ = committed_rows(1, "out")
    dispatch_after_commit(str(outside), kind)  # autocommit: the row is committed already
    assert handed[1:] == [(str(outside), kind)]


def test_with_the_broker_down_a_batch_waits_for_the_sweeper(broker_down):
    assert not relay.send(committed_rows(3, "down"))
    assert seen == []
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 3


@pytest.mark.redis
def test_through_redis_to_a_real_worker(background, redis_server):
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            publish_many(10, "real")
            deadline = time.monotonic() + 15
            while len(seen) < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        app.conf.task_always_eager = True
    assert sorted(seen) == sorted([(h, f"real{n}") for n in range(10) for h in ("first", "second")])
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
