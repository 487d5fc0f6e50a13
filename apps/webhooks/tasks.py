from uuid import UUID

from celery import Task, shared_task

from apps.webhooks import services


@shared_task(name="webhooks.delivery_attempt", bind=True, acks_late=True, ignore_result=True)
def delivery_attempt(self: Task, delivery_id: str) -> None:
    """One attempt of one delivery; the service records it and schedules the next (retries
    are rows with a due time, not Celery retries, so the sweeper can always find them)."""
    services.delivery_attempt(delivery_id=UUID(delivery_id))


@shared_task(name="webhooks.requeue", bind=True, acks_late=True, ignore_result=True)
def requeue(self: Task) -> None:
    services.deliveries_requeue()


@shared_task(name="webhooks.deliveries_prune", bind=True, acks_late=True, ignore_result=True)
def deliveries_prune(self: Task) -> None:
    services.deliveries_prune()
