"""Retention of outbox events and idempotency records (apps.core.retention): what is old
and finished goes, with what depends on it; nothing else, and never more than a run's limit."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core import retention
from apps.core.deliveries import beat_tasks
from apps.core.idempotency import idempotency_cleanup
from apps.core.models import DeadLetter, IdempotencyRecord, OutboxEvent, ProcessedEvent
from apps.core.tasks import outbox_prune as outbox_prune_task
from finstack.celery import app as celery_app

pytestmark = pytest.mark.django_db


def _event(*, age_days: float, dispatched_days_ago: float | None, handlers: int = 1):
    now = timezone.now()
    row = OutboxEvent.objects.create(
        type="tests.something_happened",
        payload={},
        created_at=now - timedelta(days=age_days),
        dispatched_at=None
        if dispatched_days_ago is None
        else now - timedelta(days=dispatched_days_ago),
    )
    for n in range(handlers):
        ProcessedEvent.objects.create(event_id=row.pk, handler=f"tests.handler_{n}")
    return row.pk


def test_events_dispatched_past_retention_go_with_their_claims_and_nothing_else(settings):
    settings.OUTBOX_RETENTION_DAYS = 30
    old = [_event(age_days=40, dispatched_days_ago=40, handlers=2) for _ in range(3)]
    fresh = _event(age_days=5, dispatched_days_ago=5)
    # Created long ago but dispatched only recently (a sweeper caught up): still in retention.
    late = _event(age_days=40, dispatched_days_ago=2)
    undispatched = _event(age_days=400, dispatched_days_ago=None)
    unrelated_claim = ProcessedEvent.objects.create(event_id=uuid.uuid4(), handler="tests.other")

    assert retention.outbox_prune() == 3

    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {fresh, late, undispatched}
    assert not ProcessedEvent.objects.filter(event_id__in=old).exists()
    assert set(ProcessedEvent.objects.values_list("event_id", flat=True)) == {
        fresh,
        late,
        undispatched,
        unrelated_claim.event_id,
    }


def test_a_run_deletes_at_most_its_batches_and_the_next_run_continues():
    for _ in range(7):
        _event(age_days=40, dispatched_days_ago=40)
    kept = _event(age_days=1, dispatched_days_ago=1)

    assert retention.outbox_prune(batch=2, batches=2) == 4
    assert OutboxEvent.objects.count() == 4  # three old ones and the fresh one
    assert retention.outbox_prune(batch=2, batches=2) == 3
    assert retention.outbox_prune(batch=2, batches=2) == 0
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [kept]
    assert ProcessedEvent.objects.count() == 1


def test_each_batch_is_one_bounded_statement():
    for _ in range(5):
        _event(age_days=40, dispatched_days_ago=40)
    with connection.execute_wrapper(_count_deletes):
        _DELETES.clear()
        retention.outbox_prune(batch=2, batches=10)
    # 2 + 2 + 1: the third statement found fewer than a batch and the run stopped there.
    assert _DELETES == [2, 2, 1]


_DELETES: list[int] = []


def _count_deletes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if sql.lstrip().startswith("WITH doomed"):
        _DELETES.append(context["cursor"].rowcount)
    return result


def test_an_event_whose_handler_was_dead_lettered_is_kept_for_people():
    parked = _event(age_days=40, dispatched_days_ago=40)
    gone = _event(age_days=40, dispatched_days_ago=40)
    DeadLetter.objects.create(
        task_id="t-1",
        task="core.handle_event",
        args=[str(parked), "tests.handler_0"],
        reason=DeadLetter.FAILED,
    )

    assert retention.outbox_prune() == 1

    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [parked]
    assert not OutboxEvent.objects.filter(pk=gone).exists()


def test_the_prune_task_runs_the_prune_and_is_on_the_beat(settings):
    _event(age_days=40, dispatched_days_ago=40)
    outbox_prune_task.delay()
    assert not OutboxEvent.objects.exists()

    entry = settings.CELERY_BEAT_SCHEDULE["core.outbox_prune"]
    assert entry["task"] == "core.outbox_prune" in celery_app.tasks
    assert "core.outbox_prune" in beat_tasks()  # so it runs once at a time
    assert settings.OUTBOX_RETENTION_DAYS == 30


def _record(key: str, age_hours: float) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user_id=1,
        key=key,
        endpoint="tests",
        request_hash="h",
        request_body={},
        created_at=timezone.now() - timedelta(hours=age_hours),
    )


def test_idempotency_cleanup_deletes_every_expired_record_in_batches(settings):
    settings.IDEMPOTENCY_TTL_HOURS = 24
    for n in range(5):
        _record(f"old-{n}", 25)
    _record("fresh", 23)

    with connection.execute_wrapper(_count_idempotency_deletes):
        _IDEMPOTENCY_DELETES.clear()
        assert idempotency_cleanup(batch=2) == 5

    # Every expired record, as before, but a bounded statement at a time.
    assert _IDEMPOTENCY_DELETES == [2, 2, 1]
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


_IDEMPOTENCY_DELETES: list[int] = []


def _count_idempotency_deletes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if "DELETE FROM core_idempotencyrecord" in sql:
        _IDEMPOTENCY_DELETES.append(context["cursor"].rowcount)
    return result


def test_the_idempotency_cleanup_task_is_still_on_the_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["core.idempotency_cleanup"]["task"] in celery_app.tasks
