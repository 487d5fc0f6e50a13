from uuid import UUID

from celery import Task, shared_task
from django.conf import settings

from apps.notifications import services


@shared_task(name="notifications.deliver", bind=True, acks_late=True, ignore_result=True)
def deliver(self: Task, delivery_id: str) -> None:
    """Send one delivery; a temporary failure is retried with exponential back-off, per
    channel, then given up (logged as failed)."""
    try:
        services.delivery_send(delivery_id=UUID(delivery_id))
    except services.TemporaryFailure as exc:
        retries = self.request.retries
        if retries >= settings.NOTIFICATIONS_MAX_RETRIES:
            services.delivery_give_up(delivery_id=UUID(delivery_id), error=str(exc))
            return
        countdown = min(settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2**retries, 3600)
        raise self.retry(
            exc=exc, countdown=countdown, max_retries=settings.NOTIFICATIONS_MAX_RETRIES
        ) from exc


@shared_task(name="notifications.requeue", bind=True, acks_late=True, ignore_result=True)
def requeue(self: Task) -> None:
    services.deliveries_requeue()


@shared_task(name="notifications.deliveries_prune", bind=True, acks_late=True, ignore_result=True)
def deliveries_prune(self: Task) -> None:
    services.deliveries_prune()
