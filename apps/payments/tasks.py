from typing import Any
from uuid import UUID

import requests
from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError

from apps.payments import services
from apps.payments.providers import simulated

# Every payments task: redelivered if a worker dies mid-run, no result kept.
TASK: dict[str, Any] = dict(bind=True, acks_late=True, ignore_result=True)


@shared_task(name="payments.run_step", **TASK)
def run_step(self: Task, payment_id: str) -> None:
    try:
        services.step_run(payment_id=UUID(payment_id))
    except services.StepRetry as exc:
        if self.request.retries >= settings.PAYMENTS_STEP_MAX_RETRIES:
            return  # the recovery job keeps trying until the deadline, then compensates
        raise self.retry(
            exc=exc,
            countdown=min(2 ** (self.request.retries + 1), 300),
            max_retries=settings.PAYMENTS_STEP_MAX_RETRIES,
        ) from exc


# A deadlock or a dropped connection is worth another go; anything else waits for the
# recovery job (and the logs).
DATABASE_HICCUPS: dict[str, Any] = dict(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=60, max_retries=8
)


@shared_task(name="payments.process_webhook", **TASK, **DATABASE_HICCUPS)
def process_webhook(self: Task, webhook_id: str) -> None:
    services.webhook_process(webhook_id=UUID(webhook_id))


@shared_task(name="payments.recover", **TASK)
def recover(self: Task) -> None:
    services.payments_recover()


@shared_task(name="payments.recover_one", **TASK, **DATABASE_HICCUPS)
def recover_one(self: Task, payment_id: str) -> None:
    services.payment_recover(payment_id=UUID(payment_id))


@shared_task(name="payments.simulated_callbacks", **TASK)
def simulated_callbacks(self: Task, payment_id: str) -> None:
    """The simulated bank calling our webhook over HTTP, as a real one would."""
    for body, headers in simulated.callbacks(payment_id):
        requests.post(
            settings.PAYMENTS_SIMULATED_WEBHOOK_URL,
            data=body,
            headers={**headers, "Content-Type": "application/json"},
            timeout=10,
        )
