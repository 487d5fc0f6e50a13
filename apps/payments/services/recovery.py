"""The `payments.recover` beat job and the recovery of one payment (see the package
docstring)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core import batch
from apps.ledger import services as ledger_services
from apps.payments import errors, providers
from apps.payments.models import (
    Payment,
    State,
    WebhookEvent,
)
from apps.payments.services._common import (
    Step,
    StepRetry,
    _attention,
    _fail,
    _locked,
    _log,
    _over_max_balance,
    _queue_step,
    _relock,
    _succeed,
)
from apps.payments.services.saga import step_run
from apps.payments.services.webhooks import webhook_process


def payments_recover(*, limit: int = 200) -> dict[str, int]:
    """Beat job: every overdue unfinished payment moves on (see the package docstring), and
    webhooks whose processing task was lost are processed. Each webhook and each payment is
    its own unit (apps.core.batch): one that raises is flagged for people (the payment's
    `needs_attention`), operations are alerted, and the others go on."""
    stale = timezone.now() - timedelta(seconds=settings.PAYMENTS_STEP_TIMEOUT_SECONDS)
    webhooks = (
        WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lte=stale)
        .exclude(pk__in=batch.resting(WEBHOOK_JOB))
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    batch.each(
        WEBHOOK_JOB,
        list(webhooks),
        lambda webhook_id: webhook_process(webhook_id=webhook_id),
        flag=_webhook_failed,
    )
    overdue = (
        Payment.objects.filter(state=State.PROCESSING, due_at__lte=timezone.now())
        .exclude(pk__in=batch.resting(RECOVER_JOB))
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = batch.each(
        RECOVER_JOB,
        list(overdue),
        lambda payment_id: payment_recover(payment_id=payment_id),
        flag=_recovery_failed,
    )
    counts: dict[str, int] = {}
    for outcome in done.results:
        counts[outcome] = counts.get(outcome, 0) + 1
    if done.failed:
        counts["error"] = len(done.failed)
    return counts


WEBHOOK_JOB, RECOVER_JOB = "payments.recover:webhook", "payments.recover"


def _webhook_failed(webhook_id: UUID, error: str) -> None:
    webhook = WebhookEvent.objects.get(pk=webhook_id)
    payment = _locked(webhook.payment_id) if webhook.payment_id else None
    if payment is not None:
        _attention(payment, f"its webhook {webhook.event_type} could not be processed: {error}")


def _recovery_failed(payment_id: UUID, error: str) -> None:
    payment = _locked(payment_id)
    if payment is not None:
        _attention(payment, f"recovery failed: {error}")


def payment_recover(*, payment_id: UUID, force: bool = False) -> str:
    """Move one unfinished payment on; `force` (an operator's saga_resume --id) also when its
    next attempt is not due yet."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise errors.PaymentNotFound()
    if payment.state != State.PROCESSING:
        return "finished"
    if payment.step == Step.REQUEST:
        try:
            return step_run(payment_id=payment_id, only_if_due=not force)
        except StepRetry:
            return "provider down"
    adapter = providers.get(payment.provider)
    try:  # outside any transaction
        status = adapter.status(payment_id=str(payment_id))
    except providers.ProviderError:
        return "provider down"
    with transaction.atomic():
        payment = _relock(payment_id)
        if payment.state != State.PROCESSING:
            return "finished"
        _log(payment, "provider", f"status polled: {status.state}")
        if status.state == "succeeded":
            try:
                with transaction.atomic():
                    _succeed(payment, "the bank confirmed (polled)")
            except ledger_services.BalanceCeilingExceeded:
                return _over_max_balance(payment)
            return "succeeded"
        if status.state == "failed":
            _fail(payment, "bank_failed", status.reason or "refused by the bank")
            return "failed"
        if status.state == "unknown":  # our request never reached it: ask again
            payment.step = Step.REQUEST
            payment.save(update_fields=["step", "updated_at"])
            _queue_step(payment)
            return "re-requested"
        if timezone.now() < payment.deadline_at:
            payment.due_at = timezone.now() + timedelta(
                seconds=settings.PAYMENTS_WEBHOOK_WAIT_SECONDS
            )
            payment.save(update_fields=["due_at", "updated_at"])
            return "still pending"
    # Past the deadline and still pending at the bank: cancel there first, then release.
    try:
        canceled = adapter.cancel(payment_id=str(payment_id))
    except providers.ProviderError:
        return "provider down"
    with transaction.atomic():
        payment = _relock(payment_id)
        if payment.state != State.PROCESSING:
            return "finished"
        if not canceled:
            return _attention(payment, "past the deadline and the bank would not cancel")
        _fail(payment, "timeout", "the bank did not complete it in time")
        return "timed out"
