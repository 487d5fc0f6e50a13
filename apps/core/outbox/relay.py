"""After-commit dispatch off the caller's path: a per-process relay thread sends outbox events
to the broker in batches.

A committed event goes onto an in-memory queue (microseconds); the relay thread drains it and
puts ONE message per batch on the broker (`core.dispatch_events`, fanned out to one task per
handler by a worker), then marks the batch dispatched with one statement. Sending and marking
inline (kombu's publish path and a four-statement marking transaction) cost a ledger posting
most of its time, paid by every request (docs/performance.md).

Nothing is lost if the process dies with events still queued: their rows stay undispatched and
the beat sweeper sends them (handlers run once per event anyway). `OUTBOX_DISPATCH = "inline"`
(tests) sends in the committing thread instead, so eager tasks run before the caller returns.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from uuid import UUID

from celery import signature
from django.conf import settings
from django.db import connection, connections

from apps.core.outbox import delivery
from apps.core.outbox.registry import handlers_for

# The name it always had (before the outbox became a package): log filters use it.
log = logging.getLogger("apps.core.relay")
# Sent by name (apps.core.tasks sits above this module and imports it).
DISPATCH_EVENTS = "core.dispatch_events"
BATCH = 500
# At most one batch per this interval: after a quiet spell an event goes at once, under load
# one broker message and one marking statement carry every event of the interval; shorter
# intervals cost posting throughput (docs/performance.md).
INTERVAL_SECONDS = 0.1
_lock = threading.Lock()
_done = threading.Condition()
_queue: queue.SimpleQueue[tuple[UUID | str, str]] = queue.SimpleQueue()
_pending = 0  # handed to this process's relay and not yet sent (or given up)
_pid = 0
_last_sent = 0.0


def enqueue(event_id: UUID | str, event_type: str) -> None:
    """Called after commit: hand the event to this process's relay (or send it now)."""
    global _pending
    if settings.OUTBOX_DISPATCH == "inline":
        delivery.dispatch(event_id, event_type)
        return
    _ensure_thread()
    with _done:
        _pending += 1
    _queue.put((event_id, event_type))


def _ensure_thread() -> None:
    global _pid, _queue, _pending
    if _pid == os.getpid():
        return
    with _lock:
        if _pid == os.getpid():
            return
        _queue, _pending = queue.SimpleQueue(), 0  # a forked child starts with no backlog
        threading.Thread(target=_run, name="outbox-relay", daemon=True).start()
        _pid = os.getpid()


def _run() -> None:
    global _pending, _last_sent
    try:
        while True:
            batch = _take()
            send(batch)
            _last_sent = time.monotonic()
            with _done:
                _pending -= len(batch)
                _done.notify_all()
    finally:
        connections.close_all()


def _take() -> list[tuple[UUID | str, str]]:
    batch = [_queue.get()]
    wait = _last_sent + INTERVAL_SECONDS - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    try:
        while len(batch) < BATCH:
            batch.append(_queue.get_nowait())
    except queue.Empty:
        pass
    return batch


def send(batch: list[tuple[UUID | str, str]]) -> bool:
    """One broker message and one marking statement for a batch; False leaves the rows to the
    sweeper (broker or database away)."""
    wanted = {kind for kind in {kind for _, kind in batch} if handlers_for(kind)}  # per type
    subscribed = [[str(pk), kind] for pk, kind in batch if kind in wanted]
    try:
        if subscribed:
            # A summary, not celery's saferepr of every id, which costs a batch much of its CPU.
            signature(DISPATCH_EVENTS).apply_async(
                (subscribed,),
                retry=False,
                confirm_timeout=delivery.CONFIRM_TIMEOUT_SECONDS,
                argsrepr=f"({len(subscribed)} events)",
                kwargsrepr="",
            )
        # str: the ledger hands over ids as its SQL returned them, publish() as UUIDs.
        delivery.mark_dispatched(
            [str(pk) for pk, _ in batch],
            unsubscribed=[str(pk) for pk, kind in batch if kind not in wanted],
        )
    except delivery.BROKER_ERRORS as exc:
        log.warning("outbox relay: %d events left for the sweeper: %s", len(batch), exc)
        return False
    except Exception:
        # The database went away under the relay: the rows stay undispatched, the sweeper
        # re-sends them (handlers run once per event). A fresh connection next time.
        log.exception("outbox relay: marking %d events failed", len(batch))
        connection.close()
        return False
    return True


def fan_out(pairs: list[list[str]]) -> int:
    """In a worker: one task per subscribed handler of each event; returns how many."""
    sent = 0
    for event_id, event_type in pairs:
        for handler in handlers_for(event_type):
            signature(delivery.HANDLE_EVENT).apply_async((event_id, handler))
            sent += 1
    return sent


def flush(timeout: float = 5.0) -> bool:
    """Wait until this process's relay has sent what it was given (tests, shutdown)."""
    if _pid != os.getpid():
        return True
    with _done:
        return _done.wait_for(lambda: _pending <= 0, timeout=timeout)


atexit.register(flush)
