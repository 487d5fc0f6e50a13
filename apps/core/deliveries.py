"""Guards around every Celery task run (the base class `GuardedTask`):

- Poison messages: each delivery of a message (task id, retry number) is counted at task
  start in its own committed transaction. With `acks_late` and `task_reject_on_worker_lost`,
  a task that kills its worker (SIGKILL, out of memory, a segfault) comes back for ever; past
  `TASK_MAX_DELIVERIES` (3) it is acknowledged without running and parked as a DeadLetter,
  logged CRITICAL. A task that fails for good (not a retry) is stored as a DeadLetter too.
- Beat jobs run once at a time: a task named in CELERY_BEAT_SCHEDULE runs under an advisory
  lock on its name, held by a transaction of its own (so it works behind PgBouncer); a second
  run starting meanwhile (two beats, a slow run and the next tick) skips, as the first one
  does the work.
- Test-only fault points (`apps.core.faults`) at task start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Protocol

from celery import Task
from celery.exceptions import Ignore, Reject, Retry
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from apps.core import faults

# Models are imported where used: this module may be named as the Celery app's task_cls,
# which is loaded before Django's app registry is ready.
PARKED, FAILED = "parked", "failed"

log = logging.getLogger(__name__)


class DeadLetterListener(Protocol):
    def __call__(self, *, dead_letter_id: int, task: str, reason: str, deliveries: int) -> None: ...


# Told of each dead letter inside the transaction that stores it (apps.core.events publishes
# TaskDeadLettered). Registered at startup by CoreConfig.ready(): events sits above this
# module, which must stay importable before Django's app registry is ready.
_listeners: list[DeadLetterListener] = []


def on_dead_letter(listener: DeadLetterListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def max_deliveries() -> int:
    return int(getattr(settings, "TASK_MAX_DELIVERIES", 3))


def beat_tasks() -> frozenset[str]:
    return frozenset(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values())


@contextmanager
def singleton(name: str) -> Iterator[bool]:
    """Yield True to the one holder of the advisory lock named `name`, False to anyone else
    meanwhile. The lock is transaction-level, held for the job's length by a connection of its
    own: a session lock does not survive PgBouncer's transaction pooling (its unlock may reach
    another server connection and leave the lock behind), an open transaction does, and a
    worker killed mid-job releases it with its connection."""
    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"job:{name}"]
            )
            (held,) = cursor.fetchone()
        yield held
    finally:
        try:
            holder.rollback()  # answered once the lock is gone: the next run finds it free
        finally:
            holder.close()  # a dead connection ends the transaction, and the lock, anyway


def delivery_count(*, task_id: str, task: str, retries: int) -> int:
    """Count this delivery (committed at once, outside any transaction); returns the count."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_taskdelivery (task_id, task, retries, deliveries, first_at, last_at)"
            " VALUES (%s, %s, %s, 1, now(), now())"
            " ON CONFLICT (task_id) DO UPDATE SET last_at = now(), retries = EXCLUDED.retries,"
            " deliveries = CASE WHEN core_taskdelivery.retries = EXCLUDED.retries"
            " THEN core_taskdelivery.deliveries + 1 ELSE 1 END"
            " RETURNING deliveries",
            [task_id, task, retries],
        )
        (count,) = cursor.fetchone()
    return int(count)


def delivery_done(*, task_id: str) -> None:
    from apps.core.models import TaskDelivery

    TaskDelivery.objects.filter(task_id=task_id).delete()


def dead_letter_store(
    *,
    task_id: str,
    task: str,
    args: Any,
    kwargs: Any,
    reason: str,
    deliveries: int,
    last_error: str,
) -> int:
    from apps.core.models import DeadLetter, TaskDelivery

    with transaction.atomic():
        row = DeadLetter.objects.create(
            task_id=task_id,
            task=task,
            args=list(args or ()),
            kwargs=dict(kwargs or {}),
            reason=reason,
            deliveries=deliveries,
            last_error=last_error[:4000],
        )
        TaskDelivery.objects.filter(task_id=task_id).delete()
        if not _is_the_alert_itself(task, args):
            for listener in _listeners:
                listener(dead_letter_id=row.pk, task=task, reason=reason, deliveries=deliveries)
    log.critical(
        "dead letter: task %s %s %s after %d deliveries: %s",
        task,
        task_id,
        reason,
        deliveries,
        last_error[:300],
    )
    return row.pk


def _is_the_alert_itself(task: str, args: Any) -> bool:
    # The alert is a handler of TaskDeadLettered: if delivering it dies too, alerting about
    # that would loop. The log line and the gauge still tell.
    handler = str(args[1]) if task == "core.handle_event" and len(args or ()) > 1 else ""
    return handler.endswith("task_dead_lettered")


def dead_letters_cleanup(*, older_than_days: int = 7) -> int:
    """Forget delivery counters of messages that never came back (rejected, lost); the dead
    letters themselves stay for people."""
    from django.utils import timezone

    from apps.core.models import TaskDelivery

    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = TaskDelivery.objects.filter(last_at__lt=cutoff).delete()
    return deleted


def dead_letters_by_reason() -> dict[str, int]:
    """For the /metrics gauge: dead letters stored, by reason."""
    from django.db.models import Count

    from apps.core.models import DeadLetter

    rows = DeadLetter.objects.values("reason").annotate(n=Count("id")).order_by("reason")
    return {row["reason"]: row["n"] for row in rows}


class GuardedTask(Task):  # type: ignore[type-arg]
    """Base class of our Celery tasks (see the module docstring)."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if request.is_eager or request.called_directly or not request.id:
            return self._guarded_run(args, kwargs)
        task_id, retries = str(request.id), int(request.retries or 0)
        if connection.in_atomic_block:  # cannot commit a count here; run unguarded
            return self._guarded_run(args, kwargs)
        try:
            count = delivery_count(task_id=task_id, task=self.name, retries=retries)
        except DatabaseError as exc:  # the body meets it too, under its own retry policy
            log.warning("task %s %s runs uncounted: %s", self.name, task_id, exc)
            return self._guarded_run(args, kwargs)
        if count > max_deliveries():
            dead_letter_store(
                task_id=task_id,
                task=self.name,
                args=args,
                kwargs=kwargs,
                reason=PARKED,
                deliveries=count - 1,
                last_error="the worker died while running it on every delivery",
            )
            return None  # acknowledged without running
        faults.point(f"task:{self.name}")
        try:
            result = self._guarded_run(args, kwargs)
        except (Retry, Ignore, Reject):
            raise
        except Exception as exc:
            try:
                dead_letter_store(
                    task_id=task_id,
                    task=self.name,
                    args=args,
                    kwargs=kwargs,
                    reason=FAILED,
                    deliveries=count,
                    last_error=f"{exc.__class__.__name__}: {exc}",
                )
            except DatabaseError:  # the database is what failed: the log line must do
                log.critical("task %s %s failed for good: %s", self.name, task_id, exc)
            raise
        delivery_done(task_id=task_id)
        return result

    def _guarded_run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.name not in beat_tasks():
            return super().__call__(*args, **kwargs)
        with singleton(self.name) as held:
            if not held:
                log.info("%s is already running elsewhere: this run skips", self.name)
                return None
            return super().__call__(*args, **kwargs)
