"""Domain events through a transactional outbox.

A service calls `publish(SomeEvent(...))` inside its transaction: the event row commits or
rolls back with the change. After commit it is dispatched to Celery, one task per subscribed
handler; each handler runs in its own transaction at most once per event (ProcessedEvent).
Events are frozen dataclasses of JSON primitives, declared in the publishing app's events.py.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from apps.core import context
from apps.core.ids import uuid7
from apps.core.outbox import relay
from apps.core.outbox.registry import Event, Handler, _handlers, decode, handlers_for, subscribe

__all__ = [
    "OUTBOX_WRITE",
    "Event",
    "Handler",
    "JobItemFailed",
    "TaskDeadLettered",
    "_handlers",
    "decode",
    "dispatch_after_commit",
    "handlers_for",
    "outbox_row",
    "publish",
    "publish_dead_letter",
    "subscribe",
]

log = logging.getLogger(__name__)


# The one writer of outbox rows (apps/core/sql/outbox.sql); a statement that writes an event
# with its change calls it with outbox_row()'s values.
OUTBOX_WRITE = "SELECT core_outbox_write(%s, %s, %s::jsonb, %s)"


def outbox_row(event: Event) -> list[Any]:
    """The outbox row's id, type, payload and request id, for a statement that writes it with
    the change it announces (one round trip for both; the ledger's SQL functions do the same).
    The caller calls `dispatch_after_commit(id, type)` once the row is written."""
    payload = dataclasses.asdict(event)
    encoded = json.dumps(payload)
    if json.loads(encoded) != payload:
        raise TypeError(f"{event.name} payload must be JSON primitives: {payload!r}")
    request_id = context.request_id.get()
    return [uuid7(), event.name, encoded, "" if request_id == "-" else request_id]


def publish(event: Event) -> UUID:
    """Write the event in the caller's transaction; dispatch it after commit."""
    if not connection.in_atomic_block:
        raise RuntimeError("publish() must run inside the transaction that makes the change.")
    row = outbox_row(event)
    with connection.cursor() as cursor:
        cursor.execute(OUTBOX_WRITE, row)
    dispatch_after_commit(row[0], event.name)
    event_id: UUID = row[0]
    return event_id


def dispatch_after_commit(
    event_id: UUID | str, event_type: str, connection: BaseDatabaseWrapper | None = None
) -> None:
    """For outbox rows written by SQL (the ledger's posting functions): send after commit,
    as publish() does. Outside a transaction the row is already committed: send now.
    `connection`: the default database's, if the caller has looked it up already."""
    conn = connection if connection is not None else connections[DEFAULT_DB_ALIAS]
    if conn.in_atomic_block or not conn.get_autocommit():
        # robust: the change is committed by then; a failed send must not fail the caller,
        # the sweeper re-sends.
        transaction.on_commit(lambda: relay.enqueue(event_id, event_type), robust=True)
        return
    # What on_commit() does outside a transaction, without its connection lookup, closure
    # and UUID parse, which a posting's CPU would pay for nothing (the row is committed).
    try:
        relay.enqueue(event_id, event_type)
    except Exception:
        log.exception("outbox: %s %s left for the sweeper", event_type, event_id)


@dataclasses.dataclass(frozen=True)
class TaskDeadLettered(Event):
    """A task message was parked (it killed its worker on every delivery) or failed for good:
    a person must look (notifications alerts operations)."""

    name = "core.task_dead_lettered"
    dead_letter_id: int
    task: str
    reason: str
    deliveries: int


@dataclasses.dataclass(frozen=True)
class JobItemFailed(Event):
    """A beat job could not process one record and went on with the rest (apps.core.batch):
    a person must look (notifications alerts operations). Published once per failing record,
    not on every run that fails it again."""

    name = "core.job_item_failed"
    job: str
    item: str
    error: str


def publish_dead_letter(*, dead_letter_id: int, task: str, reason: str, deliveries: int) -> None:
    """apps.core.deliveries' dead-letter listener (registered by CoreConfig.ready()): deliveries
    sits below events, so it cannot publish the event itself."""
    publish(
        TaskDeadLettered(
            dead_letter_id=dead_letter_id, task=task, reason=reason, deliveries=deliveries
        )
    )
