from typing import Any
from uuid import UUID

from celery import Task, shared_task

from apps.core import deliveries, idempotency, outbox, retention
from apps.core.outbox import relay

MAX_HANDLER_RETRIES = 8


@shared_task(name="core.handle_event", bind=True, acks_late=True, ignore_result=True)
def handle_event(self: "Task[Any, Any]", event_id: str, handler: str) -> None:
    try:
        outbox.handle(UUID(event_id), handler)
    except Exception as exc:
        # Core cannot know which of a handler's errors are transient: retry each with capped
        # back-off; the ProcessedEvent claim rolled back with the failure, so a retry is safe.
        countdown = min(2**self.request.retries, outbox.MAX_BACKOFF_SECONDS)
        raise self.retry(exc=exc, countdown=countdown, max_retries=MAX_HANDLER_RETRIES) from exc


@shared_task(name="core.outbox_sweep", bind=True, acks_late=True, ignore_result=True)
def outbox_sweep(self: "Task[Any, Any]") -> None:
    outbox.sweep()
    outbox.redispatch()


@shared_task(name="core.idempotency_cleanup", bind=True, acks_late=True, ignore_result=True)
def idempotency_cleanup(self: "Task[Any, Any]") -> None:
    idempotency.idempotency_cleanup()


@shared_task(name="core.dispatch_events", bind=True, acks_late=True, ignore_result=True)
def dispatch_events(self: "Task[Any, Any]", pairs: list[list[str]]) -> None:
    """A relay's batch of committed events: one handle_event task per subscribed handler."""
    relay.fan_out(pairs)


@shared_task(name="core.deliveries_cleanup", bind=True, acks_late=True, ignore_result=True)
def deliveries_cleanup(self: "Task[Any, Any]") -> None:
    deliveries.dead_letters_cleanup()


@shared_task(name="core.outbox_prune", bind=True, acks_late=True, ignore_result=True)
def outbox_prune(self: "Task[Any, Any]") -> None:
    retention.outbox_prune()
