from datetime import timedelta

from celery import Task, shared_task
from django.utils import timezone

from apps.reports import services


@shared_task(name="reports.reconcile", bind=True, acks_late=True, ignore_result=True)
def reconcile(self: Task) -> None:
    """Nightly: yesterday (UTC), whose postings and settlements are complete."""
    services.reconcile(day=timezone.now().date() - timedelta(days=1))
