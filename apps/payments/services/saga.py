"""The saga's REQUEST step: ask the provider to collect or pay out."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.payments import providers
from apps.payments.models import (
    Payment,
    State,
)
from apps.payments.services._common import (
    Step,
    StepRetry,
    _fail,
    _locked,
    _log,
    _relock,
)


def step_run(*, payment_id: UUID, only_if_due: bool = False) -> str:
    """The REQUEST step: ask the provider to collect or pay out. Safe to run any number of
    times (the provider deduplicates on our payment id; a finished step is a no-op). Each run
    claims an attempt by moving `due_at` on under the row lock: the recovery job
    (`only_if_due`) leaves a payment whose attempt another runner has just claimed."""
    with transaction.atomic():
        payment = _locked(payment_id)
        if payment is None or payment.state != State.PROCESSING or payment.step != Step.REQUEST:
            return "nothing to do"
        if only_if_due and payment.due_at > timezone.now():
            return "in progress"
        payment.step_attempts += 1
        backoff = min(2**payment.step_attempts, 300)
        payment.due_at = timezone.now() + timedelta(seconds=backoff)
        payment.save(update_fields=["step_attempts", "due_at", "updated_at"])
        source = payment.funding_source
    provider = providers.get(payment.provider)
    call = provider.collect if payment.direction == Payment.Direction.DEPOSIT else provider.payout
    try:
        accepted = call(
            payment_id=str(payment.pk),
            token=source.provider_token,
            amount=payment.amount,
            currency=payment.currency,
        )
    except providers.ProviderRejected as exc:
        with transaction.atomic():
            payment = _relock(payment_id)
            if payment.state == State.PROCESSING:
                _fail(payment, "provider_rejected", str(exc))
        return "rejected"
    except providers.ProviderError as exc:
        with transaction.atomic():
            payment = _relock(payment_id)
            _log(payment, "provider", f"request failed: {exc}")
            if payment.state == State.PROCESSING and timezone.now() > payment.deadline_at:
                _fail(payment, "provider_unavailable", "the bank could not be reached")
                return "gave up"
        raise StepRetry(str(exc)) from exc
    with transaction.atomic():
        payment = _relock(payment_id)
        payment.provider_ref = payment.provider_ref or accepted.provider_ref
        _log(payment, "provider", "request accepted", data={"ref": accepted.provider_ref})
        if payment.state == State.PROCESSING and payment.step == Step.REQUEST:
            payment.step = Step.AWAIT
            payment.due_at = timezone.now() + timedelta(
                seconds=settings.PAYMENTS_WEBHOOK_WAIT_SECONDS
            )
        # Otherwise its webhook came first and finished it: keep that outcome.
        payment.save(update_fields=["provider_ref", "step", "due_at", "updated_at"])
    return "requested"
