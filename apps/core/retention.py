"""Retention of rows that grow with traffic but are nobody's record of money: dispatched
outbox events and their handler claims, expired idempotency records (apps.core.idempotency)
and, in the notifications app, finished deliveries. The ledger's own entries, transactions and
hash chains are its audit trail and are never pruned (their triggers refuse it anyway).

Every prune deletes in bounded batches, one short statement and transaction each, taking rows
with SKIP LOCKED: a backlog of millions never holds a long lock, a long transaction or a
long-lived snapshot that would keep VACUUM from the rest of the database, and a run that
stops after its batches leaves the rest to the next run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone


def delete_in_batches(sql: str, params: dict[str, Any], *, batch: int, batches: int | None) -> int:
    """Run a DELETE that takes at most %(batch)s rows, each in its own transaction, until it
    deletes fewer than `batch` or `batches` runs (None: no limit) are done; returns how many
    rows the statements reported."""
    total = runs = 0
    while batches is None or runs < batches:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, {**params, "batch": batch})
            deleted = cursor.rowcount
        total += deleted
        runs += 1
        if deleted < batch:
            break
    return total


# Old rows are found through the created_at BRIN index: an event is dispatched after it is
# created, so every row dispatched before the cutoff was also created before it (there is no
# index on dispatched_at, and one would cost every event an index entry). No ORDER BY: the
# scan stops at the batch's last row instead of sorting the whole backlog first.
#
# An event's ProcessedEvent rows go in the same statement: a claim without its event would be
# harmless, but an event without its claims would run its handlers again on a replay
# (outbox_replay) or a stale message. An event whose handler task was dead-lettered stays
# while the dead letter does, so a person can still replay it.
OUTBOX_PRUNE_SQL = """
    WITH doomed AS (
        SELECT o.id FROM core_outboxevent o
        WHERE o.created_at < %(cutoff)s AND o.dispatched_at < %(cutoff)s
          AND NOT EXISTS (SELECT 1 FROM core_deadletter d
                          WHERE d.task = 'core.handle_event' AND d.args ->> 0 = o.id::text)
        LIMIT %(batch)s
        FOR UPDATE OF o SKIP LOCKED
    ), claims AS (
        DELETE FROM core_processedevent p USING doomed WHERE p.event_id = doomed.id
    )
    DELETE FROM core_outboxevent o USING doomed WHERE o.id = doomed.id
"""


def outbox_prune(
    *, older_than_days: int | None = None, batch: int | None = None, batches: int | None = None
) -> int:
    """Delete outbox events dispatched more than OUTBOX_RETENTION_DAYS ago, with their
    ProcessedEvent rows; never an undispatched one. At most `batches` statements of `batch`
    rows a run (settings OUTBOX_RETENTION_BATCH, OUTBOX_RETENTION_BATCHES_PER_RUN); returns
    how many events went. After this an event can no longer be replayed (outbox_replay)."""
    days = settings.OUTBOX_RETENTION_DAYS if older_than_days is None else older_than_days
    return delete_in_batches(
        OUTBOX_PRUNE_SQL,
        {"cutoff": timezone.now() - timedelta(days=days)},
        batch=batch or settings.OUTBOX_RETENTION_BATCH,
        batches=batches or settings.OUTBOX_RETENTION_BATCHES_PER_RUN,
    )
