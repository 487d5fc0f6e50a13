"""Outbox delivery: dispatch after commit, sweep what a crash left behind, run each handler once."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from uuid import UUID

from amqp.exceptions import AMQPError, MessageNacked
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import KombuError
from redis import RedisError

from apps.core import context
from apps.core.events import decode, handlers_for
from apps.core.models import OutboxEvent

log = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(seconds=10)  # leave fresh rows to their own after-commit dispatch
SWEEP_LEASE = timedelta(seconds=60)  # a claimed row is not claimed again before this
MAX_BACKOFF_SECONDS = 300
# After a failed send, skip sends from this process for a while: with the broker away each
# attempt costs a connect timeout, and requests must not pay it. The sweeper catches up.
BREAKER_SECONDS = 30.0
_broker_down_until = 0.0


def dispatch(event_id: UUID | str, event_type: str) -> bool:
    """Put one task per subscribed handler on the broker; False leaves the row for the sweeper."""
    global _broker_down_until
    handlers = handlers_for(event_type)
    if not handlers:
        return True  # nothing to send; the sweeper marks such rows in bulk, off the hot path
    if time.monotonic() < _broker_down_until:
        return False
    from apps.core.tasks import handle_event

    try:
        for handler in handlers:
            handle_event.apply_async((str(event_id), handler), retry=False)
    # RabbitMQ: a refused or timed-out connection is a KombuError, but a broker that closes the
    # channel or connection (a queue declared otherwise, a nack under publisher confirms, a
    # forced close) raises py-amqp's own errors.
    except (KombuError, RedisError, OSError, AMQPError, MessageNacked) as exc:
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
# that see it nearly empty: in a backlog, the relays' marking statements ate a core (50 ms a
# batch with 80,000 rows waiting). A row marked twice (relay and sweeper both sent it) keeps
# its first time.
MARK_DISPATCHED_SQL = (
    "WITH async_commit AS (SELECT set_config('synchronous_commit',"
    " CASE WHEN %s THEN 'off' ELSE current_setting('synchronous_commit') END, true))"
    " UPDATE core_outboxevent o SET dispatched_at = coalesce(o.dispatched_at, now())"
    " FROM async_commit, unnest(%s::uuid[]) AS batch(id)"
    " WHERE o.id = batch.id"
)


def mark_dispatched(event_ids: list[UUID] | list[str]) -> None:
    """One statement. The mark only spares the sweeper a re-send (handlers dedupe anyway), so
    on its own it need not wait for the WAL flush: asynchronous commit keeps it off the
    caller's latency. Inside a caller's transaction it leaves that transaction's commit as it
    was."""
    with connection.cursor() as cursor:
        cursor.execute(MARK_DISPATCHED_SQL, [not connection.in_atomic_block, list(event_ids)])


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
        mark_dispatched(silent)
    # The broker is called only after the claim has committed.
    return sum(dispatch(pk, t) for pk, t in claimed if handlers_for(t))


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
