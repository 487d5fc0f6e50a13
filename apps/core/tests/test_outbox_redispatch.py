"""Events dispatched whose message the broker lost: the sweeper re-sends the handlers that have
not run, at most OUTBOX_REDISPATCH_MAX times, and each handler still runs at most once."""

import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django.utils import timezone

from apps.core import deliveries, outbox
from apps.core.events import Event, handlers_for, publish
from apps.core.models import DeadLetter, OutboxEvent, ProcessedEvent
from apps.core.tasks import outbox_sweep
from apps.core.testing import wait_for
from apps.core.tests.events import SomethingHappened, seen
from finstack.celery import app


@dataclass(frozen=True)
class NobodyListens(Event):
    name = "core_tests.nobody_listens"
    note: str


FIRST = "apps.core.tests.events.on_something_happened"
SECOND = "apps.core.tests.events.on_something_happened_too"


def age_dispatched(minutes: int = 20) -> None:
    """Time passing: every dispatched event's dispatch (and re-dispatch delay) lies behind."""
    OutboxEvent.objects.filter(dispatched_at__isnull=False).update(
        dispatched_at=timezone.now() - timedelta(minutes=minutes),
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )


def dispatched_event(label: str):
    """A committed event marked dispatched whose tasks never reached a worker."""
    with transaction.atomic():
        event_id = publish(SomethingHappened(label=label))
    outbox.mark_dispatched([event_id])
    return event_id


def test_handler_names_are_the_ones_the_registry_gives():
    assert set(handlers_for(SomethingHappened.name)) == {FIRST, SECOND}


# --- a real Redis broker, a real worker -------------------------------------------------------


@pytest.fixture
def broker(redis_server, settings):
    """Tasks really go to this run's queue on the real Redis; no worker reads it until a test
    starts one."""
    settings.OUTBOX_REDISPATCH_AFTER_SECONDS = 1
    app.conf.task_always_eager = False
    purge()
    yield
    purge()
    app.conf.task_always_eager = True


def purge() -> int:
    """The broker loses every message waiting in the queue (as a restart without persistence)."""
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_purge(app.conf.task_default_queue) or 0


@contextmanager
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_message_lost_after_dispatch_is_re_sent_and_handled_once(broker):
    with transaction.atomic():
        event_id = publish(SomethingHappened(label="lost"))
    assert OutboxEvent.objects.get(pk=event_id).dispatched_at is not None
    assert purge() == 2  # both handler tasks were on the broker, and are gone
    time.sleep(1.1)  # past OUTBOX_REDISPATCH_AFTER_SECONDS
    with worker():
        outbox_sweep.apply()  # the beat job, run here: sweep, then re-dispatch
        assert wait_for(lambda: len(seen) >= 2)
        time.sleep(1.1)
        outbox_sweep.apply()  # both ran: the row is settled, nothing is sent again
        time.sleep(0.5)
    assert sorted(seen) == [("first", "lost"), ("second", "lost")]
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.redispatches == 1
    assert row.settled_at is not None
    assert row.gave_up_at is None
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_re_dispatch_the_lost_message_is_never_handled(
    broker, settings, caplog
):
    settings.OUTBOX_REDISPATCH_MAX = 0  # re-dispatch disabled
    with transaction.atomic():
        event_id = publish(SomethingHappened(label="lost"))
    assert purge() == 2
    time.sleep(1.1)
    with worker(), caplog.at_level(logging.ERROR, logger="apps.core.outbox"):
        assert outbox.sweep() == 0  # the undispatched-row sweep alone does not see it
        outbox_sweep.apply()
        time.sleep(1.5)
    assert seen == []
    assert not ProcessedEvent.objects.filter(event_id=event_id).exists()
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.gave_up_at is not None
    assert f"{FIRST}, {SECOND}" in row.last_error
    assert "gave up" in caplog.text


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_original_message_arriving_late_too_still_runs_each_handler_once(broker):
    with transaction.atomic():
        event_id = publish(SomethingHappened(label="late"))  # its messages wait on the broker
    age_dispatched()
    assert outbox.redispatch() == 2  # taken for lost: a second copy of each
    with worker():
        assert wait_for(lambda: len(seen) >= 2)
        time.sleep(1.0)  # the other two copies are delivered and skipped
    assert sorted(seen) == [("first", "late"), ("second", "late")]
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_after_max_re_dispatches_the_row_is_given_up_on_with_its_error(broker, settings, caplog):
    settings.OUTBOX_REDISPATCH_MAX = 2
    with transaction.atomic():
        event_id = publish(SomethingHappened(label="cursed"))
    for _ in range(2):  # every message the broker gets is lost
        assert purge() == 2
        age_dispatched()
        assert outbox.redispatch() == 2
    assert purge() == 2
    age_dispatched()
    with caplog.at_level(logging.ERROR, logger="apps.core.outbox"):
        assert outbox.redispatch() == 0
    assert purge() == 0  # nothing sent a third time
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.redispatches == 2
    assert row.settled_at is not None
    assert row.gave_up_at is not None
    assert row.last_error == f"never ran after 2 re-dispatches: {FIRST}, {SECOND}"
    assert f"gave up on {SomethingHappened.name} {event_id}" in caplog.text
    assert outbox.given_up_recently() == 1
    age_dispatched()
    assert outbox.redispatch() == 0  # settled: never looked at again
    assert seen == []


# --- the check against the database, tasks run in-process -------------------------------------


@pytest.mark.django_db
def test_event_whose_handlers_all_ran_is_settled_and_never_re_sent():
    event_id = dispatched_event("done")
    outbox.handle(event_id, FIRST)
    outbox.handle(event_id, SECOND)
    age_dispatched()
    assert outbox.redispatch() == 0
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.settled_at is not None
    assert row.redispatches == 0
    age_dispatched()
    assert outbox.redispatch() == 0
    assert sorted(seen) == [("first", "done"), ("second", "done")]


@pytest.mark.django_db
def test_only_the_handler_that_has_not_run_is_re_sent():
    event_id = dispatched_event("half")
    outbox.handle(event_id, FIRST)
    age_dispatched()
    assert outbox.redispatch() == 1  # eager: the task runs here
    assert seen == [("first", "half"), ("second", "half")]
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 2
    age_dispatched()
    assert outbox.redispatch() == 0
    assert OutboxEvent.objects.get(pk=event_id).settled_at is not None


@pytest.mark.django_db
def test_fresh_dispatch_is_left_alone():
    event_id = dispatched_event("fresh")
    assert outbox.redispatch() == 0  # dispatched just now: its tasks may still be queued
    assert seen == []
    assert OutboxEvent.objects.get(pk=event_id).settled_at is None


@pytest.mark.django_db
def test_dead_lettered_handler_is_not_re_sent():
    event_id = dispatched_event("poison")
    deliveries.dead_letter_store(
        task_id="t-1",
        task="core.handle_event",
        args=[str(event_id), FIRST],
        kwargs={},
        reason=deliveries.FAILED,
        deliveries=1,
        last_error="boom",
    )
    age_dispatched()
    assert outbox.redispatch() == 1  # the second handler only
    assert seen == [("second", "poison")]
    age_dispatched()
    assert outbox.redispatch() == 0
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.settled_at is not None
    assert row.gave_up_at is None  # the dead letter is for a person, not this row
    assert not ProcessedEvent.objects.filter(event_id=event_id, handler=FIRST).exists()
    assert DeadLetter.objects.filter(task="core.handle_event").count() == 1


@pytest.mark.django_db
def test_event_without_handlers_is_settled_when_marked_dispatched():
    with transaction.atomic():
        event_id = publish(NobodyListens(note="x"))
    OutboxEvent.objects.filter(pk=event_id).update(
        created_at=timezone.now() - timedelta(minutes=1),
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )
    outbox.sweep()
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.dispatched_at is not None
    assert row.settled_at is not None


# --- the query reads the partial index, not the settled history -------------------------------


@pytest.fixture
def settled_history():
    """100,000 settled rows dispatched long ago (the audit trail), and one lost event."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_outboxevent (id, type, payload, request_id, created_at,"
            " dispatched_at, settled_at, attempts, next_attempt_at, last_error)"
            " SELECT core_uuid7(), 'core.test', '{}', '', now() - interval '1 day',"
            " now() - interval '1 day', now() - interval '1 day', 0, now(), ''"
            " FROM generate_series(1, 100000)"
        )
        cursor.execute("ANALYZE core_outboxevent")
    dispatched_event("waiting")
    age_dispatched()  # the settled rows too: only the index keeps them out


def _plan_of_the_check() -> dict:
    query = outbox.redispatch_due(now=timezone.now(), batch=200)
    with transaction.atomic():
        return json.loads(query.explain(format="json", analyze=True))[0]["Plan"]


@pytest.mark.django_db
def test_check_reads_the_unsettled_index_on_a_large_settled_table(settled_history):
    plan = _plan_of_the_check()
    assert "outbox_unsettled_idx" in json.dumps(plan)
    assert _rows_read(plan) == 1


@pytest.mark.django_db
def test_negative_control_without_the_partial_index_the_check_reads_the_history(
    settled_history,
):
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX outbox_unsettled_idx")  # rolled back with the test
    assert _rows_read(_plan_of_the_check()) > 100_000


def _rows_read(node: dict) -> int:
    """Rows the plan's scans of the outbox table examined (returned or filtered out)."""
    examined = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
    own = examined * node.get("Actual Loops", 1) if "Scan" in node["Node Type"] else 0
    own = own if node.get("Relation Name") == "core_outboxevent" else 0
    return own + sum(_rows_read(child) for child in node.get("Plans", []))


@pytest.mark.django_db
def test_relay_settles_the_events_nobody_listens_to_in_its_marking_statement():
    from apps.core.outbox import relay

    with transaction.atomic():
        quiet = publish(NobodyListens(note="q"))
        heard = publish(SomethingHappened(label="heard"))
    assert relay.send([(quiet, NobodyListens.name), (heard, SomethingHappened.name)])
    rows = {row.pk: row for row in OutboxEvent.objects.all()}
    assert rows[quiet].dispatched_at is not None
    assert rows[quiet].settled_at is not None
    assert rows[heard].dispatched_at is not None
    assert rows[heard].settled_at is None  # settled by the check once its handlers ran


@pytest.mark.django_db
def test_broker_down_during_re_dispatch_keeps_the_count_and_the_row_for_the_next_sweep(
    broker_down,
):
    event_id = dispatched_event("unlucky")
    age_dispatched()
    assert outbox.redispatch() == 0
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.redispatches == 0
    assert row.settled_at is None
    assert row.last_error != ""
    assert row.next_attempt_at <= timezone.now()  # due again at the next sweep
    assert seen == []
