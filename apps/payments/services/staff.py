"""Staff actions: risk review, and the maker-checker compensations and resolutions."""

from __future__ import annotations

from datetime import timedelta
from typing import cast
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.payments import errors, providers
from apps.payments.models import (
    ManualAction,
    Payment,
    RiskReview,
    State,
)
from apps.payments.services._common import (
    _booked_succeeded,
    _clearing,
    _enqueue,
    _fail,
    _locked,
    _log,
    _queue_step,
    _relock,
    _transition,
)

# --- risk review (compliance staff) -------------------------------------------------------------


@transaction.atomic
def review_decide(*, payment_id: UUID, staff_id: int, approve: bool, note: str = "") -> None:
    payment = _locked(payment_id)
    if payment is not None and payment.user_id == staff_id:
        # Four eyes: nobody approves their own payment, whatever their admin permissions.
        raise errors.DeciderIsParty()
    review = RiskReview.objects.select_for_update().get(payment=payment)
    payment = cast(Payment, payment)  # the review exists, so its payment does
    if review.decision != RiskReview.Decision.PENDING:
        raise errors.IllegalTransition(decision=review.decision)
    review.decision = RiskReview.Decision.APPROVED if approve else RiskReview.Decision.REJECTED
    review.decided_by_id, review.decided_at, review.note = staff_id, timezone.now(), note
    review.save()
    _log(payment, "review", f"{review.decision} by staff {staff_id}: {note}"[:300])
    if approve:
        _transition(payment, State.PROCESSING, "approved in review")
        payment.due_at = timezone.now() + timedelta(seconds=settings.PAYMENTS_STEP_TIMEOUT_SECONDS)
        payment.deadline_at = timezone.now() + timedelta(seconds=settings.PAYMENTS_DEADLINE_SECONDS)
        payment.save(update_fields=["due_at", "deadline_at", "updated_at"])
        _queue_step(payment)
    else:
        _fail(payment, "not_approved", "declined in review", to=State.CANCELED)


def step_retry_now(*, payment_id: UUID) -> None:
    """Admin: run an unfinished payment's overdue work now instead of at its next due time."""
    Payment.objects.filter(pk=payment_id, state=State.PROCESSING).update(due_at=timezone.now())
    _enqueue("payments.recover_one", str(payment_id))


# --- manual actions (maker-checker) -------------------------------------------------------------


@transaction.atomic
def compensation_propose(*, payment_id: UUID, staff_id: int, reason: str) -> int:
    payment = _locked(payment_id)
    if payment is None or payment.state != State.PROCESSING:
        raise errors.IllegalTransition(state=payment.state if payment else None)
    action = ManualAction.objects.create(payment=payment, reason=reason, proposed_by_id=staff_id)
    _log(payment, "manual", f"compensation proposed by staff {staff_id}: {reason}")
    return action.pk


def compensation_approve(*, action_id: int, staff_id: int) -> str:
    """A second staff member approves: cancel at the bank (outside a transaction), then
    release the hold. If the bank already paid, nothing is released."""
    action = ManualAction.objects.select_related("payment").get(pk=action_id)
    if action.proposed_by_id == staff_id:
        raise errors.FourEyes()
    if action.executed_at:
        return action.outcome
    payment_id = action.payment_id
    canceled = providers.get(action.payment.provider).cancel(payment_id=str(payment_id))
    with transaction.atomic():
        payment = _relock(payment_id)
        if payment.state != State.PROCESSING:
            outcome = f"nothing to do: {payment.state}"
        elif not canceled:
            outcome = "the bank would not cancel: left as it is"
        else:
            _fail(payment, "manual_compensation", action.reason)
            outcome = "compensated"
        ManualAction.objects.filter(pk=action_id).update(
            approved_by_id=staff_id, executed_at=timezone.now(), outcome=outcome
        )
        _log(payment, "manual", f"approved by staff {staff_id}: {outcome}")
    return outcome


# --- resolutions (maker-checker) ----------------------------------------------------------------
#
# A payment that needs attention is resolved by staff: one proposes a resolution with a note,
# a second approves it, and only then does it run, under the payment's row lock:
#   book    the bank moved money we did not book (a late success after we gave the payment
#           up, or a collected deposit held back by the maximum balance): post what the bank
#           did under `payment:<id>:resolve:<action id>` and end the payment succeeded;
#   return  a collected deposit we cannot or should not book (maximum balance, closed
#           wallet): the provider interface has no payout back from clearing, so staff refund
#           it at the bank and record it here; nothing is posted (the collected money never
#           entered our ledger), an unfinished payment ends failed (`returned_to_bank`);
#   close   nothing to do with money: clear the flag with a note (an unfinished payment's
#           saga goes on).
# "book" and "return" ask the provider first (outside any transaction) and run only if it
# reports the payment succeeded. Every resolution clears `needs_attention` and writes the
# timeline; the state changes publish the saga's own events.

RESOLUTIONS = (ManualAction.Action.BOOK, ManualAction.Action.RETURN, ManualAction.Action.CLOSE)
_GIVEN_UP = (State.FAILED, State.CANCELED)


def _booked(payment: Payment) -> bool:
    """Whether any posting already carries this payment's money to or from the wallet."""
    if payment.ledger_transaction_id:
        return True
    keys = [f"payment:{payment.pk}:settle"]
    keys += [
        f"payment:{payment.pk}:resolve:{pk}"
        for pk in payment.manual_actions.values_list("pk", flat=True)
    ]
    return any(ledger_selectors.transaction_id_by_key(idempotency_key=key) for key in keys)


def _resolution_check(payment: Payment, action: str) -> None:
    """Refuse (ResolutionNotApplicable, with the reason) a resolution that does not fit."""
    refuse = errors.ResolutionNotApplicable
    if action not in RESOLUTIONS:
        raise refuse(action=action, reason="unknown_resolution")
    if not payment.needs_attention:
        raise refuse(action=action, reason="not_flagged", state=payment.state)
    if action == ManualAction.Action.CLOSE:
        return
    deposit = payment.direction == Payment.Direction.DEPOSIT
    if action == ManualAction.Action.RETURN and not deposit:
        raise refuse(
            "Only a collected deposit can be returned.", action=action, reason="not_a_deposit"
        )
    allowed = (State.PROCESSING, *_GIVEN_UP) if deposit else _GIVEN_UP
    if payment.state not in allowed:
        # A processing withdrawal still has its hold: its saga settles it when the bank
        # confirms (run "retry now"); a succeeded payment is booked already.
        raise refuse(action=action, reason="wrong_state", state=payment.state)
    if _booked(payment):
        raise refuse("The payment is booked already.", action=action, reason="already_booked")


@transaction.atomic
def resolution_propose(*, payment_id: UUID, staff_id: int, action: str, note: str) -> int:
    """Propose a resolution (book, return, close) of a flagged payment; returns its id."""
    payment = _locked(payment_id)
    if payment is None:
        raise errors.PaymentNotFound()
    if not note.strip():
        raise errors.ResolutionNotApplicable("Say why in a note.", reason="note_required")
    _resolution_check(payment, action)
    open_ones = payment.manual_actions.filter(executed_at__isnull=True, action__in=RESOLUTIONS)
    if open_ones.exists():  # under the payment's lock: one open proposal at a time
        raise errors.ResolutionNotApplicable(
            "Another resolution is waiting for approval.", reason="already_proposed"
        )
    proposal = ManualAction.objects.create(
        payment=payment, action=action, reason=note, proposed_by_id=staff_id
    )
    _log(
        payment,
        "manual",
        f"{action} proposed by staff {staff_id}: {note}",
        data={"action_id": proposal.pk},
    )
    return proposal.pk


def manual_action_approve(*, action_id: int, staff_id: int) -> str:
    """A second staff member approves a proposed manual action, which then runs."""
    action = ManualAction.objects.get(pk=action_id)
    if action.action == ManualAction.Action.COMPENSATE:
        return compensation_approve(action_id=action_id, staff_id=staff_id)
    return resolution_approve(action_id=action_id, staff_id=staff_id)


def resolution_approve(*, action_id: int, staff_id: int) -> str:
    """Run a proposed resolution once a different staff member approves it; approving an
    executed one again answers its outcome (and moves nothing)."""
    action = ManualAction.objects.select_related("payment").get(pk=action_id)
    if action.proposed_by_id == staff_id:
        raise errors.FourEyes()
    if action.executed_at:
        return action.outcome
    if action.action != ManualAction.Action.CLOSE:
        _bank_confirmed(action.payment)
    with transaction.atomic():
        payment = _relock(action.payment_id)
        action = ManualAction.objects.select_for_update().get(pk=action_id)
        if action.executed_at:
            return action.outcome
        _resolution_check(payment, action.action)  # again: the payment may have moved on
        if action.action == ManualAction.Action.BOOK:
            outcome = _book(payment, action, staff_id)
        elif action.action == ManualAction.Action.RETURN:
            outcome = _returned(payment, action)
        else:
            outcome = "closed as resolved"
        payment.needs_attention = False
        payment.save(update_fields=["needs_attention", "updated_at"])
        ManualAction.objects.filter(pk=action_id).update(
            approved_by_id=staff_id, executed_at=timezone.now(), outcome=outcome
        )
        _log(
            payment,
            "manual",
            f"{action.action} approved by staff {staff_id}: {outcome}",
            data={"action_id": action_id, "note": action.reason[:200]},
        )
    return outcome


def _bank_confirmed(payment: Payment) -> None:
    """Money resolutions act on what the bank did: it must report the payment succeeded."""
    try:  # a network call: before, not inside, the transaction
        status = providers.get(payment.provider).status(payment_id=str(payment.pk))
    except providers.ProviderError as exc:
        raise errors.ProviderUnavailable() from exc
    if status.state != "succeeded":
        raise errors.BankNotConfirmed(bank_state=status.state)


def _book(payment: Payment, action: ManualAction, staff_id: int) -> str:
    """Post what the bank did: a deposit clearing -> wallet (within the wallet's maximum), a
    withdrawal whose hold we released wallet -> clearing (refused if the wallet lacks it)."""
    amount = Money(payment.amount, payment.currency)
    clearing = _clearing(payment.provider, payment.currency)
    if payment.direction == Payment.Direction.DEPOSIT:
        ceiling = kyc_selectors.limits_for(
            user_id=payment.user_id, currency=payment.currency
        ).max_balance.amount
        legs = [
            ledger_services.Leg(clearing, "D", amount),
            ledger_services.Leg(payment.wallet_account_id, "C", amount, ceiling),
        ]
    else:
        legs = [
            ledger_services.Leg(payment.wallet_account_id, "D", amount),
            ledger_services.Leg(clearing, "C", amount),
        ]
    posting = ledger_services.transaction_post(
        legs=legs,
        idempotency_key=f"payment:{payment.pk}:resolve:{action.pk}",
        kind=payment.direction,
        description=f"{payment.direction} booked by staff resolution",
        metadata={"payment_id": str(payment.pk), "manual_action_id": action.pk},
        created_by=f"staff:{staff_id}",
    )
    payment.failure_code = payment.failure_message = ""
    payment.save(update_fields=["failure_code", "failure_message", "updated_at"])
    _booked_succeeded(payment, posting.transaction_id, f"booked by staff resolution {action.pk}")
    return "booked"


def _returned(payment: Payment, action: ManualAction) -> str:
    """Recorded as refunded at the bank; an unfinished deposit ends failed."""
    if payment.state == State.PROCESSING:
        _fail(payment, "returned_to_bank", "the collected money is returned to your bank")
    return "returned at the bank"
