import requests
from celery import Task, shared_task
from django.conf import settings

from apps.kyc import providers, services


@shared_task(name="kyc.expire", bind=True, acks_late=True, ignore_result=True)
def expire(self: Task) -> None:
    services.cases_expire()


@shared_task(name="kyc.retention", bind=True, acks_late=True, ignore_result=True)
def retention(self: Task) -> None:
    services.retention_purge()


@shared_task(name="kyc.simulated_result", bind=True, acks_late=True, ignore_result=True)
def simulated_result(self: Task, case_id: str, last_name: str) -> None:
    """The simulated vendor answering over HTTP, as a real one would."""
    body, headers = providers.simulated_result(case_id, last_name)
    requests.post(
        settings.KYC_SIMULATED_WEBHOOK_URL,
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
