"""Outbox delivery: dispatch after commit, sweep what a crash left behind, re-send handlers whose
message the broker lost after dispatch, run each handler once."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from amqp.exceptions import AMQPError, MessageNacked
from celery import signature
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from kombu.exceptions import KombuError
from redis import RedisError

from apps.core import context
from apps.core.models import DeadLetter, OutboxEvent, ProcessedEvent
from apps.core.outbox.registry import decode, handlers_for

# The name it always had (before the outbox became a package): log filters and tests use it.
log = logging.getLogger("apps.core.outbox")

# Sent by name (apps.core.tasks sits above this module and imports it).
HANDLE_EVENT = "core.handle_event"

SWEEP_GRACE = timedelta(seconds=10)  # leave fresh rows to their own after-commit dispatch
SWEEP_LEASE = timedelta(seconds=60)  # a claimed row is not claimed again before this
MAX_BACKOFF_SECONDS = 300
# After a failed send, skip sends from this process for a while: with the broker away each
# attempt costs a connect timeout, and requests must not pay it. The sweeper catches up.
BREAKER_SECONDS = 30.0
_broker_down_until = 0.0


# What a send raises when the broker is away or refuses it. RabbitMQ: a refused or timed-out
# connection is a KombuError, but a broker that closes the channel or connection (a queue
# declared otherwise, a nack under publisher confirms, a forced close) raises py-amqp's own.
BROKER_ERRORS = (KombuError, RedisError, OSError, AMQPError, MessageNacked)
# Under publisher confirms, a RabbitMQ that blocks publishers (a memory or disk alarm) would
# hold a send for ever; past this it counts as failed (socket.timeout) and the row waits for
# the sweeper. Redis ignores it.
CONFIRM_TIMEOUT_SECONDS = 2.0


def dispatch(event_id: UUID | str, event_type: str) -> bool:
    """Put one task per subscribed handler on the broker; False leaves the row for the sweeper."""
    global _broker_down_until
    handlers = handlers_for(event_type)
    if not handlers:
        return True  # nothing to send; the sweeper marks such rows in bulk, off the hot path
    if time.monotonic() < _broker_down_until:
        return False
    try:
        for handler in handlers:
            signature(HANDLE_EVENT).apply_async(
                (str(event_id), handler),
                retry=False,
                confirm_timeout=CONFIRM_TIMEOUT_SECONDS,
            )
    except BROKER_ERRORS as exc:
        _broker_down_until = time.monotonic() + BREAKER_SECONDS
        log.warning(
            "outbox: broker unavailable, %s %s left for the sweeper: %s", event_type, event_id, exc
        )
        _note_failure(event_id, exc)
        return False
    mark_dispatched([event_id])
    return True


# Keyed on the batch's ids alone, so that the only plan is a primary-key lookup per id. With
# `AND dispatched_at IS NULL` the planner may read the whole partial "undispatched" index
# instead (hashed against the batch, or ANDed with `id = ANY(...)`), costed from statistics
# that see it nearly empty: in a backlog, the relays' marking statements ate a core. A row
# marked twice (relay and sweeper both sent it) keeps its first time. An event nobody
# subscribes to is settled in the same statement, so that it never enters the re-dispatch
# check.
MARK_DISPATCHED_SQL = (
    "WITH async_commit AS (SELECT set_config('synchronous_commit',"
    " CASE WHEN %s THEN 'off' ELSE current_setting('synchronous_commit') END, true))"
    " UPDATE core_outboxevent o SET dispatched_at = coalesce(o.dispatched_at, now()),"
    " settled_at = CASE WHEN o.id = ANY(%s::uuid[]) THEN coalesce(o.settled_at, now())"
    " ELSE o.settled_at END"
    " FROM async_commit, unnest(%s::uuid[]) AS batch(id)"
    " WHERE o.id = batch.id"
)


def mark_dispatched(
    event_ids: Sequence[UUID | str], *, unsubscribed: Sequence[UUID | str] = ()
) -> None:
    """One statement. The mark only spares the sweeper a re-send (handlers dedupe anyway), so
    on its own it need not wait for the WAL flush: asynchronous commit keeps it off the
    caller's latency. Inside a caller's transaction it leaves that transaction's commit as it
    was. `unsubscribed` (a subset, events without handlers) are settled too."""
    with connection.cursor() as cursor:
        cursor.execute(
            MARK_DISPATCHED_SQL,
            [not connection.in_atomic_block, [str(pk) for pk in unsubscribed], list(event_ids)],
        )


def _note_failure(event_id: UUID | str, exc: BaseException) -> None:
    row = OutboxEvent.objects.filter(pk=event_id).only("attempts").first()
    if row is None:
        return
    delay = min(2 ** max(row.attempts, 1), MAX_BACKOFF_SECONDS)
    OutboxEvent.objects.filter(pk=event_id).update(
        last_error=str(exc)[:2000], next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )


def sweep(*, batch: int = 200) -> int:
    """Re-dispatch events whose after-commit dispatch never happened; returns how many."""
    now = timezone.now()
    with transaction.atomic():
        claimed = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(
                dispatched_at__isnull=True,
                next_attempt_at__lte=now,
                created_at__lte=now - SWEEP_GRACE,
            )
            .order_by("next_attempt_at")
            .values_list("pk", "type")[:batch]
        )
        OutboxEvent.objects.filter(pk__in=[pk for pk, _ in claimed]).update(
            attempts=F("attempts") + 1, next_attempt_at=now + SWEEP_LEASE
        )
    silent = [pk for pk, event_type in claimed if not handlers_for(event_type)]
    if silent:
        mark_dispatched(silent, unsubscribed=silent)
    # The broker is called only after the claim has committed.
    return sum(dispatch(pk, t) for pk, t in claimed if handlers_for(t))


def redispatch_after() -> timedelta:
    # Above the handler retry horizon (apps.core.tasks: 8 retries, 2^n s apart, ~510 s), so a
    # handler still retrying is not re-sent; a re-send would be harmless anyway.
    return timedelta(seconds=getattr(settings, "OUTBOX_REDISPATCH_AFTER_SECONDS", 900))


def redispatch_max() -> int:
    return int(getattr(settings, "OUTBOX_REDISPATCH_MAX", 3))


def redispatch_due(*, now: datetime, batch: int) -> QuerySet[OutboxEvent, tuple[UUID, str, int]]:
    """The claim of `redispatch`: (id, type, re-dispatches) of unsettled rows due for a check,
    oldest dispatch first, read from the partial index `outbox_unsettled_idx`."""
    return (
        OutboxEvent.objects.select_for_update(skip_locked=True)
        .filter(
            dispatched_at__isnull=False,
            settled_at__isnull=True,
            dispatched_at__lte=now - redispatch_after(),
            next_attempt_at__lte=now,  # a re-sent row waits its own delay again
        )
        .order_by("dispatched_at")
        .values_list("pk", "type", "redispatches")[:batch]
    )


def redispatch(*, batch: int = 500, budget_seconds: float = 10.0) -> int:
    """Re-send the handlers that have not run of events dispatched OUTBOX_REDISPATCH_AFTER_SECONDS
    ago (their message was lost after it reached the broker); returns how many tasks were sent.

    Reads only unsettled rows (partial index `outbox_unsettled_idx`). A row whose handlers all
    ran, or whose missing handlers were dead-lettered (for a person, not re-sent), is settled;
    one re-sent OUTBOX_REDISPATCH_MAX times already is given up on: settled, `gave_up_at` set,
    `last_error` naming the handlers that never ran, logged at ERROR.

    Every dispatched event passes here once, so one run takes batch after batch while full
    ones come (for up to `budget_seconds`, inside the 15 s beat interval): the check keeps
    pace with the rate events are written, not one batch per tick."""
    deadline = time.monotonic() + budget_seconds
    sent = 0
    while True:
        claimed, batch_sent = _redispatch_batch(batch)
        sent += batch_sent
        if claimed < batch or time.monotonic() >= deadline:
            return sent


def _redispatch_batch(batch: int) -> tuple[int, int]:
    """One claimed batch of the check: (rows claimed, tasks sent)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = list(redispatch_due(now=now, batch=batch))
        if not claimed:
            return 0, 0
        ids = [pk for pk, _, _ in claimed]
        ran: dict[str, set[str]] = {}
        for event_id, handler in ProcessedEvent.objects.filter(event_id__in=ids).values_list(
            "event_id", "handler"
        ):
            ran.setdefault(str(event_id), set()).add(handler)
        # A dead letter of core.handle_event records args [event_id, handler].
        for args in DeadLetter.objects.filter(
            task=HANDLE_EVENT, args__0__in=[str(pk) for pk in ids]
        ).values_list("args", flat=True):
            if isinstance(args, list) and len(args) == 2:
                ran.setdefault(str(args[0]), set()).add(str(args[1]))
        settled: list[UUID] = []
        resend: list[tuple[UUID, list[str]]] = []
        for pk, event_type, count in claimed:
            missing = sorted(set(handlers_for(event_type)) - ran.get(str(pk), set()))
            if not missing:
                settled.append(pk)
            elif count >= redispatch_max():
                error = f"never ran after {count} re-dispatches: {', '.join(missing)}"
                OutboxEvent.objects.filter(pk=pk).update(
                    settled_at=now, gave_up_at=now, last_error=error
                )
                log.error("outbox: gave up on %s %s: %s", event_type, pk, error)
            else:
                resend.append((pk, missing))
        OutboxEvent.objects.filter(pk__in=settled).update(settled_at=now)
        OutboxEvent.objects.filter(pk__in=[pk for pk, _ in resend]).update(
            redispatches=F("redispatches") + 1, next_attempt_at=now + redispatch_after()
        )
    # The broker is called only after the claim has committed.
    sent = 0
    for position, (pk, missing) in enumerate(resend):
        try:
            for handler in missing:
                signature(HANDLE_EVENT).apply_async(
                    (str(pk), handler),
                    retry=False,
                    confirm_timeout=CONFIRM_TIMEOUT_SECONDS,
                )
                sent += 1
        except BROKER_ERRORS as exc:
            left = [row_id for row_id, _ in resend[position:]]
            log.warning("outbox: broker unavailable, %d re-dispatches left: %s", len(left), exc)
            # Not re-sends that happened: tried again at the next sweep, the count as it was.
            OutboxEvent.objects.filter(pk__in=left).update(
                redispatches=F("redispatches") - 1, next_attempt_at=now, last_error=str(exc)[:2000]
            )
            return 0, sent  # no further batch this run: the next sweep tries again
        log.warning("outbox: re-dispatched %s to %s (its message was lost)", pk, ", ".join(missing))
    return len(claimed), sent


def given_up_recently(*, hours: int = 24) -> int:
    """Events given up on in the last `hours` (the /metrics gauge; partial index)."""
    since = timezone.now() - timedelta(hours=hours)
    return OutboxEvent.objects.filter(gave_up_at__gte=since).count()


def handle(event_id: UUID, handler_name: str) -> bool:
    """Run one handler for one event in its own transaction; False if it already ran."""
    row = OutboxEvent.objects.filter(pk=event_id).first()
    if row is None:  # sent after its commit, so never "not yet": a stale message; drop it
        log.error("outbox: event %s does not exist; message for %s dropped", event_id, handler_name)
        return False
    handler = handlers_for(row.type).get(handler_name)
    if handler is None:
        log.error("outbox: no handler %s for %s %s", handler_name, row.type, event_id)
        return False
    token = context.request_id.set(row.request_id or context.request_id.get())
    event_token = context.event_id.set(str(event_id))
    try:
        with transaction.atomic():
            # Claim first: a concurrent duplicate blocks here until we commit, then skips.
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO core_processedevent (event_id, handler, processed_at) "
                    "VALUES (%s, %s, now()) ON CONFLICT DO NOTHING RETURNING id",
                    [event_id, handler_name],
                )
                if cursor.fetchone() is None:
                    return False
            handler(decode(row.type, row.payload))
        return True
    finally:
        context.event_id.reset(event_token)
        context.request_id.reset(token)


def lag() -> dict[str, float | int]:
    """How far behind dispatch is: waiting events and the age of the oldest (seconds)."""
    waiting = OutboxEvent.objects.filter(dispatched_at__isnull=True)
    oldest = waiting.order_by("created_at").values_list("created_at", flat=True).first()
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {"waiting": waiting.count(), "oldest_seconds": round(age, 1)}
