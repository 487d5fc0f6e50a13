from celery import Task, shared_task

from apps.wallets import services


@shared_task(name="wallets.money_requests_expire", bind=True, acks_late=True, ignore_result=True)
def money_requests_expire(self: Task) -> None:
    services.money_requests_expire()
