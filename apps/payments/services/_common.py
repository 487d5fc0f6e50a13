"""Helpers the payments service modules share: the saga's moves (log, transition, queue,
lock), booking a success, compensating a failure, and flagging a payment for people."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.payments import errors
from apps.payments.events import PaymentFailed, PaymentInReview, PaymentSucceeded
from apps.payments.models import (
    TRANSITIONS,
    FundingSource,
    Payment,
    PaymentEvent,
    State,
)
from apps.wallets import services as wallets_services

# Named after the package, not this module: log filters and alerts match this name.
logger = logging.getLogger("apps.payments.services")
Step = Payment.Step
InsufficientFunds = ledger_services.InsufficientFunds


class StepRetry(Exception):
    """The provider was unreachable: the task retries the step later."""


def _source(user_id: int, source_id: UUID, lock: bool = False) -> FundingSource:
    rows = FundingSource.objects.filter(pk=source_id, user_id=user_id, removed_at__isnull=True)
    source = (rows.select_for_update() if lock else rows).first()
    if source is None:
        raise errors.FundingSourceNotFound()
    return source


def _clearing(provider: str, currency: str) -> UUID:
    return ledger_selectors.system_account_id(
        purpose="bank_clearing", currency=currency, provider=provider
    )


def _log(payment: Payment, kind: str, cause: str, **fields: Any) -> None:
    PaymentEvent.objects.create(payment=payment, kind=kind, cause=cause[:300], **fields)


def _booked_succeeded(payment: Payment, transaction_id: UUID, cause: str) -> None:
    """The posting is made: the payment is done and succeeded, and says so."""
    payment.ledger_transaction_id = transaction_id
    payment.step = Step.DONE
    payment.save(update_fields=["ledger_transaction_id", "step", "updated_at"])
    _log(payment, "ledger", "posted", data={"transaction_id": str(transaction_id)})
    _transition(payment, State.SUCCEEDED, cause)
    publish(
        PaymentSucceeded(
            payment_id=str(payment.pk),
            user_id=payment.user_id,
            direction=payment.direction,
            amount=payment.amount,
            currency=payment.currency,
        )
    )


def _transition(payment: Payment, to: str, cause: str) -> None:
    """Move the (locked) payment to `to`, refusing any move not in TRANSITIONS."""
    if to not in TRANSITIONS[payment.state]:
        raise errors.IllegalTransition(from_state=payment.state, to_state=to)
    updated = Payment.objects.filter(pk=payment.pk, state=payment.state).update(
        state=to, updated_at=timezone.now()
    )
    if not updated:  # someone moved it under us: the caller's lock was not held
        raise errors.IllegalTransition(from_state=payment.state, to_state=to)
    _log(payment, "state", cause, from_state=payment.state, to_state=to)
    payment.state = to


def _queue_step(payment: Payment) -> None:
    payment_id = str(payment.pk)
    transaction.on_commit(lambda: _enqueue("payments.run_step", payment_id), robust=True)


def _enqueue(task: str, *args: str) -> None:
    current_app.tasks[task].apply_async(args, retry=False)


def _locked(payment_id: UUID | str) -> Payment | None:
    return Payment.objects.select_for_update().filter(pk=payment_id).first()


def _relock(payment_id: UUID | str) -> Payment:
    """The lock on a payment read earlier: payment rows are never deleted."""
    return cast(Payment, _locked(payment_id))


def _succeed(payment: Payment, cause: str) -> None:
    """Post the money (locked payment, inside a transaction)."""
    if payment.direction == Payment.Direction.DEPOSIT:
        amount = Money(payment.amount, payment.currency)
        # The tier's maximum balance is enforced where the money lands, under the ledger's
        # lock on the wallet: the check at request time cannot see other pending deposits.
        ceiling = kyc_selectors.limits_for(
            user_id=payment.user_id, currency=payment.currency
        ).max_balance.amount
        posting = ledger_services.transaction_post(
            legs=[
                ledger_services.Leg(_clearing(payment.provider, payment.currency), "D", amount),
                ledger_services.Leg(payment.wallet_account_id, "C", amount, ceiling),
            ],
            idempotency_key=f"payment:{payment.pk}:settle",
            kind="deposit",
            description="deposit",
            metadata={"payment_id": str(payment.pk)},
        )
    else:
        hold_id = cast(UUID, payment.hold_id)  # a processing withdrawal has one (constraint)
        posting = ledger_services.hold_post(hold_id=hold_id, created_by="payments")
    _booked_succeeded(payment, posting.transaction_id, cause)


def _fail(payment: Payment, code: str, message: str, to: str = State.FAILED) -> None:
    """Compensate (locked payment, inside a transaction): release the held money and the
    limit usage; nothing was posted."""
    if payment.direction == Payment.Direction.WITHDRAWAL and payment.hold_id:
        # The spending gate before the ledger, as everywhere: the other order deadlocks with
        # a withdrawal or transfer of the same user (seen in test_concurrency).
        wallets_services.spend_release(
            user_id=payment.user_id,
            amount=Money(payment.amount, payment.currency),
            counted_on=payment.created_at,
        )
        status = ledger_services.hold_void(hold_id=payment.hold_id)
        _log(payment, "ledger", f"hold released ({status})")
    payment.failure_code, payment.failure_message = code, message[:300]
    payment.step = Step.DONE
    payment.save(update_fields=["failure_code", "failure_message", "step", "updated_at"])
    _transition(payment, to, f"{code}: {message}")
    publish(
        PaymentFailed(
            payment_id=str(payment.pk),
            user_id=payment.user_id,
            direction=payment.direction,
            amount=payment.amount,
            currency=payment.currency,
            reason=code,
        )
    )


def _attention(payment: Payment, why: str) -> str:
    payment.needs_attention = True
    payment.save(update_fields=["needs_attention", "updated_at"])
    _log(payment, "attention", why)
    logger.error("payment %s needs attention: %s", payment.pk, why)
    return "needs attention"


def _over_max_balance(payment: Payment) -> str:
    """The bank collected a deposit that would take the wallet over its tier's maximum: the
    money stays in bank clearing (not booked to the wallet), the payment stays processing and
    needs attention. Each recovery poll tries to book it again, so it lands once the customer's
    tier allows it (or staff run it now after an upgrade); the customer hears once."""
    first = not payment.needs_attention
    payment.due_at = timezone.now() + timedelta(seconds=settings.PAYMENTS_WEBHOOK_WAIT_SECONDS)
    payment.save(update_fields=["due_at", "updated_at"])
    outcome = _attention(payment, "max_balance_exceeded: the wallet would exceed its maximum")
    if first:
        publish(
            PaymentInReview(
                payment_id=str(payment.pk),
                user_id=payment.user_id,
                reasons=["max_balance_exceeded"],
            )
        )
    return outcome
