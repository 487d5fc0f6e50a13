import logging

from celery import Task, shared_task

from apps.ledger import services

log = logging.getLogger(__name__)


@shared_task(name="ledger.holds_expire", bind=True, acks_late=True, ignore_result=True)
def holds_expire(self: Task) -> None:
    services.holds_expire()


@shared_task(name="ledger.checkpoint_seal", bind=True, acks_late=True, ignore_result=True)
def checkpoint_seal(self: Task) -> None:
    services.checkpoints_seal_due()


@shared_task(name="ledger.verify", bind=True, acks_late=True, ignore_result=True)
def verify(self: Task) -> None:
    result = services.verify(store=True)
    if not result.ok:
        log.error("ledger_verify found %d breaks: %s", len(result.breaks), result.breaks[:20])
