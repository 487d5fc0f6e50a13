"""Beat jobs that loop over records: one record that cannot be processed must not stop the
others, every minute, for everyone (a poison record).

`each` runs `work` once per item and catches what one item raises: the error is logged with
its traceback, kept as a `JobFailure` (one open row per job and item, its attempts counted),
the caller's `flag` marks the record for people in its own terms (a payment's
`needs_attention`), and operations are alerted once per record (`JobItemFailed`, through the
outbox). The loop then goes on. `work` owns its transactions (services already do, and some
call a provider between them), so a failure rolls back only that item's work. An item
failing again is retried no sooner than `BATCH_RETRY_AFTER_SECONDS` (see `resting`), so a few
poison records cannot crowd the good ones out of a job's batch; a later success, or a
person's "retry now" in the admin, closes its `JobFailure`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from apps.core.events import JobItemFailed, publish
from apps.core.models import JobFailure

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Batch(Generic[R]):
    results: list[R] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def each(
    job: str,
    items: Iterable[T],
    work: Callable[[T], R],
    *,
    flag: Callable[[T, str], None] | None = None,
) -> Batch[R]:
    """Run `work(item)` for every item; one item's exception does not stop the rest."""
    batch: Batch[R] = Batch()
    open_failures = set(
        JobFailure.objects.filter(job=job, resolved_at__isnull=True).values_list("item", flat=True)
    )
    for item in items:
        key = str(item)
        try:
            result = work(item)
        except Exception as exc:  # noqa: BLE001 - a poison record must not stop the job
            if isinstance(exc, DatabaseError) and not connection.is_usable():
                raise  # the database is away, not this record: the next run takes them all
            log.exception("%s: %s failed; the job goes on with the others", job, key)
            _record(job, item, key, f"{type(exc).__name__}: {exc}"[:2000], flag)
            batch.failed.append(key)
            continue
        batch.results.append(result)
        if key in open_failures:
            JobFailure.objects.filter(job=job, item=key, resolved_at__isnull=True).update(
                resolved_at=timezone.now()
            )
    return batch


def resting(job: str) -> list[str]:
    """Items of `job` that failed within `BATCH_RETRY_AFTER_SECONDS`: the job leaves them out
    of its next selections until then."""
    since = timezone.now() - timedelta(seconds=settings.BATCH_RETRY_AFTER_SECONDS)
    return list(
        JobFailure.objects.filter(
            job=job, resolved_at__isnull=True, last_failed_at__gt=since
        ).values_list("item", flat=True)
    )


def open_failures_by_job() -> dict[str, int]:
    """For the /metrics gauge."""
    rows = (
        JobFailure.objects.filter(resolved_at__isnull=True)
        .values("job")
        .annotate(n=Count("id"))
        .order_by("job")
    )
    return {row["job"]: row["n"] for row in rows}


def failure_retry(*, failure_id: int) -> None:
    """A person fixed the cause: the record is taken again by the job's next run."""
    JobFailure.objects.filter(pk=failure_id, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def _record(job: str, item: T, key: str, error: str, flag: Callable[[T, str], None] | None) -> None:
    try:
        with transaction.atomic():
            now = timezone.now()
            again = JobFailure.objects.filter(job=job, item=key, resolved_at__isnull=True).update(
                attempts=F("attempts") + 1, last_failed_at=now, error=error
            )
            if not again:
                JobFailure.objects.create(job=job, item=key, error=error)
                publish(JobItemFailed(job=job, item=key, error=error[:500]))
            if flag is not None:
                _flag(job, key, item, error, flag)
    except Exception:  # noqa: BLE001 - recording must not stop the job either
        log.exception("%s: %s could not be recorded as failed", job, key)


def _flag(job: str, key: str, item: T, error: str, flag: Callable[[T, str], None]) -> None:
    try:
        with transaction.atomic():
            flag(item, error)
    except Exception:  # noqa: BLE001 - the failure is kept and alerted all the same
        log.exception("%s: %s could not be flagged", job, key)
