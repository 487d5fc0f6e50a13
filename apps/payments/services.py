"""Public writes of apps.payments: funding sources, deposits and withdrawals as sagas.

A payment's saga lives in its row (state, step, due_at). Steps run in Celery tasks queued
after commit; every provider call happens outside any database transaction and carries our
payment id as its idempotency key; every ledger posting carries a key derived from the
payment id (`payment:<id>:hold|settle`), so a re-run step never moves money twice. The
`payments.recover` beat job picks up any payment whose step is overdue: re-sends a lost
request, polls the provider when its webhook is late, and compensates (cancels at the
provider, voids the hold) once the deadline passes.

A deposit's settling posting carries the wallet's ceiling (the tier's maximum balance), so the
maximum is checked under the ledger's lock at the moment the money lands: pending deposits
that each passed the check at request time cannot together overfill the wallet. One that
would is not booked: the collected money stays in bank clearing (visible in reconciliation),
the payment stays processing with `needs_attention` and an `attention` timeline entry
`max_balance_exceeded`, and the customer gets `payments.payment_in_review` once. Every
recovery poll tries the booking again, so it lands once the tier allows it (staff upgrade the
tier, then "retry now"). A settled collection cannot be canceled at the bank: staff resolve
such a payment by hand (see "resolutions" below: book it once it fits, or record it as
returned at the bank).

Lock order inside a transaction: the user's spending gate (wallets), the payment row, then
the ledger's shards (ledger)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts import services as accounts_services
from apps.core import batch, signing
from apps.core.events import publish
from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.payments import errors, providers, risk
from apps.payments.events import PaymentFailed, PaymentInReview, PaymentSucceeded
from apps.payments.models import (
    TERMINAL,
    TRANSITIONS,
    FundingSource,
    ManualAction,
    Payment,
    PaymentEvent,
    RiskReview,
    State,
    WebhookEvent,
)
from apps.wallets import services as wallets_services

logger = logging.getLogger(__name__)
Step = Payment.Step
InsufficientFunds = ledger_services.InsufficientFunds


class StepRetry(Exception):
    """The provider was unreachable: the task retries the step later."""


# --- funding sources ------------------------------------------------------------------------


def _iban_valid(iban: str) -> bool:
    if not (iban.isascii() and iban.isalnum()):  # "١" and "１" are digits to int() as well
        return False
    if not (15 <= len(iban) <= 34) or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return digits.isdigit() and int(digits) % 97 == 1


def funding_source_add(
    *, user_id: int, iban: str, holder_name: str, currency: str, provider: str = "simulated"
) -> UUID:
    iban = iban.replace(" ", "").upper()
    if not _iban_valid(iban):
        raise errors.InvalidIban()
    # A disabled currency's bank accounts may still be linked: they are how its money leaves.
    ledger_selectors.currency_check(code=currency, incoming=False)
    fingerprint = hashlib.sha256(iban.encode()).hexdigest()
    if FundingSource.objects.filter(
        user_id=user_id, fingerprint=fingerprint, removed_at__isnull=True
    ).exists():
        raise errors.FundingSourceExists()
    try:  # a network call: before, not inside, the transaction
        token = providers.get(provider).tokenize(iban=iban, holder_name=holder_name)
    except providers.ProviderError as exc:
        raise errors.ProviderUnavailable() from exc
    try:
        with transaction.atomic():
            source = FundingSource.objects.create(
                user_id=user_id,
                provider=provider,
                provider_token=token,
                holder_name=holder_name,
                iban_last4=iban[-4:],
                fingerprint=fingerprint,
                currency=currency,
            )
    except IntegrityError as exc:  # a concurrent twin
        raise errors.FundingSourceExists() from exc
    return source.pk


@transaction.atomic
def funding_source_remove(*, user_id: int, source_id: UUID) -> None:
    source = _source(user_id, source_id, lock=True)
    busy = Payment.objects.filter(funding_source=source).exclude(state__in=TERMINAL).exists()
    if busy:
        raise errors.FundingSourceInUse()
    source.removed_at = timezone.now()
    source.save(update_fields=["removed_at"])


def _source(user_id: int, source_id: UUID, lock: bool = False) -> FundingSource:
    rows = FundingSource.objects.filter(pk=source_id, user_id=user_id, removed_at__isnull=True)
    source = (rows.select_for_update() if lock else rows).first()
    if source is None:
        raise errors.FundingSourceNotFound()
    return source


# --- creating payments ------------------------------------------------------------------------


def _bank_account_checked(source: FundingSource, amount: Money, incoming: bool) -> None:
    """The ledger can book the payment (see `currency_check`) and the bank account is in its
    currency: the provider would otherwise collect or pay out money of another currency."""
    ledger_selectors.currency_check(code=amount.currency, incoming=incoming)
    if source.currency != amount.currency:
        raise wallets_services.CurrencyMismatch(
            "The bank account is in another currency than the payment.",
            funding_source_currency=source.currency,
            currency=amount.currency,
        )


def _clearing(provider: str, currency: str) -> UUID:
    return ledger_selectors.system_account_id(
        purpose="bank_clearing", currency=currency, provider=provider
    )


def _existing(user_id: int, direction: str, key: str) -> Payment | None:
    """The payment already made with this client key, if any. Takes a transaction-scoped
    advisory lock on the key first (before any other lock), so concurrent requests with one
    key wait for each other instead of racing to the unique constraint."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"payment:{user_id}:{direction}:{key}"],
        )
    return Payment.objects.filter(user_id=user_id, direction=direction, client_key=key).first()


def _new_payment(**fields: Any) -> Payment:
    now = timezone.now()
    payment = Payment(
        state=State.REQUIRES_CONFIRMATION,
        due_at=now + timedelta(seconds=settings.PAYMENTS_STEP_TIMEOUT_SECONDS),
        deadline_at=now + timedelta(seconds=settings.PAYMENTS_DEADLINE_SECONDS),
        **fields,
    )
    payment.save(force_insert=True)
    _log(payment, "state", "created", to_state=payment.state)
    return payment


def _start(payment: Payment, decision: risk.Decision) -> None:
    """After creation: to review, or straight to processing with its first step queued."""
    payment.risk = {"outcome": decision.outcome, "reasons": decision.reasons}
    payment.save(update_fields=["risk"])
    if decision.outcome == risk.REVIEW:
        _transition(payment, State.IN_REVIEW, "risk rules: " + ", ".join(decision.reasons))
        RiskReview.objects.create(payment=payment, reasons=decision.reasons)
        publish(
            PaymentInReview(
                payment_id=str(payment.pk), user_id=payment.user_id, reasons=decision.reasons
            )
        )
    else:
        _transition(payment, State.PROCESSING, "confirmed")
        _queue_step(payment)


def _assessed_payment(
    *,
    direction: str,
    user_id: int,
    wallet_id: UUID,
    account: UUID,
    source: FundingSource,
    amount: Money,
    client_key: str,
) -> tuple[Payment, risk.Decision]:
    """Run the risk rules (deny: refuse, nothing written), then record the payment."""
    decision = risk.assess(
        user_id=user_id,
        direction=direction,
        amount=amount.amount,
        currency=amount.currency,
        source=source,
    )
    if decision.outcome == risk.DENY:
        raise errors.RiskDenied(reasons=decision.reasons)
    payment = _new_payment(
        user_id=user_id,
        direction=direction,
        wallet_id=wallet_id,
        wallet_account_id=account,
        funding_source=source,
        amount=amount.amount,
        currency=amount.currency,
        provider=source.provider,
        client_key=client_key,
    )
    return payment, decision


def _opened(
    user_id: int,
    wallet_id: UUID,
    funding_source_id: UUID,
    amount: Money,
    client_key: str,
    incoming: bool,
) -> tuple[Payment, risk.Decision, UUID, FundingSource]:
    """The checks both directions share, then the assessed payment row.

    A deposit only checks the wallet can receive; a withdrawal reserves the amount.
    """
    source = _source(user_id, funding_source_id)
    _bank_account_checked(source, amount, incoming=incoming)
    wallet_step = wallets_services.receive_check if incoming else wallets_services.spend_reserve
    account = wallet_step(wallet_id=wallet_id, user_id=user_id, amount=amount)
    payment, decision = _assessed_payment(
        direction=Payment.Direction.DEPOSIT if incoming else Payment.Direction.WITHDRAWAL,
        user_id=user_id,
        wallet_id=wallet_id,
        account=account,
        source=source,
        amount=amount,
        client_key=client_key,
    )
    return payment, decision, account, source


@transaction.atomic
def deposit_create(
    *, user_id: int, wallet_id: UUID, funding_source_id: UUID, amount: Money, client_key: str
) -> UUID:
    found = _existing(user_id, Payment.Direction.DEPOSIT, client_key)
    if found:
        return found.pk
    payment, decision, _, _ = _opened(
        user_id, wallet_id, funding_source_id, amount, client_key, incoming=True
    )
    _start(payment, decision)
    return payment.pk


@transaction.atomic
def withdrawal_create(
    *, user_id: int, wallet_id: UUID, funding_source_id: UUID, amount: Money, client_key: str
) -> UUID:
    found = _existing(user_id, Payment.Direction.WITHDRAWAL, client_key)
    if found:
        return found.pk
    if not kyc_selectors.can_withdraw(user_id=user_id):
        raise errors.WithdrawalsNotAllowed()
    payment, decision, account, source = _opened(
        user_id, wallet_id, funding_source_id, amount, client_key, incoming=False
    )
    # The money is reserved before anything else happens; no expiry: only the saga releases it.
    hold = ledger_services.hold_create(
        debit_account_id=account,
        credit_account_id=_clearing(source.provider, amount.currency),
        amount=amount,
        idempotency_key=f"payment:{payment.pk}:hold",
        kind="withdrawal",
        description=f"withdrawal to ••••{source.iban_last4}",
        metadata={"payment_id": str(payment.pk)},
    )
    payment.hold_id = hold.hold_id
    payment.save(update_fields=["hold_id"])
    _log(payment, "ledger", "funds held", data={"hold_id": str(hold.hold_id)})
    _start(payment, decision)
    return payment.pk


# --- the saga -----------------------------------------------------------------------------------


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


# --- webhooks -----------------------------------------------------------------------------------


def webhook_receive(*, provider: str, body: bytes, headers: dict[str, str]) -> bool:
    """Verify and store a provider callback; processing happens in a task. False if this
    event id was seen before (the provider retried a delivery): nothing new happens."""
    try:
        adapter = providers.get(provider)
    except LookupError as exc:
        raise errors.WebhookRejected("Unknown provider.") from exc
    try:
        event = adapter.parse_webhook(body=body, headers=headers)
    except signing.BadSignature as exc:
        raise errors.WebhookRejected(str(exc)) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.WebhookRejected("Malformed payload.") from exc
    with transaction.atomic():
        row, created = WebhookEvent.objects.get_or_create(
            provider=provider,
            event_id=event.event_id,
            defaults={
                "event_type": event.type,
                "payment_id": _uuid_or_none(event.payment_id),
                "raw_body": body.decode("utf-8", "replace"),
            },
        )
        if created:
            webhook_id = str(row.pk)
            transaction.on_commit(
                lambda: _enqueue("payments.process_webhook", webhook_id), robust=True
            )
    return created


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except (TypeError, ValueError):
        return None


@transaction.atomic
def webhook_process(*, webhook_id: UUID) -> str:
    webhook = WebhookEvent.objects.select_for_update().get(pk=webhook_id)
    if webhook.processed_at:
        return webhook.outcome
    outcome = _apply_webhook(webhook)
    webhook.processed_at, webhook.outcome = timezone.now(), outcome
    webhook.save(update_fields=["processed_at", "outcome"])
    return outcome


def _apply_webhook(webhook: WebhookEvent) -> str:
    payment = _locked(webhook.payment_id) if webhook.payment_id else None
    if payment is None:
        return "unknown payment"
    kind, _, what = webhook.event_type.partition(".")
    expected = "collect" if payment.direction == Payment.Direction.DEPOSIT else "payout"
    _log(payment, "webhook", webhook.event_type, data={"event_id": webhook.event_id})
    if kind != expected:
        return "ignored: wrong kind"
    reason = _reason(webhook)
    if what == "succeeded":
        if payment.state == State.PROCESSING:
            try:
                with transaction.atomic():
                    _succeed(payment, "the bank confirmed")
            except (ledger_services.AccountClosed, ledger_services.AccountFrozen):
                return _attention(payment, "the bank paid but the wallet cannot take it")
            except ledger_services.BalanceCeilingExceeded:
                return _over_max_balance(payment)
            return "succeeded"
        if payment.state in (State.FAILED, State.CANCELED):
            return _attention(payment, "the bank says it succeeded after we gave it up")
        return "ignored: already " + payment.state
    if what == "failed":
        if payment.state == State.PROCESSING:
            _fail(payment, "bank_failed", reason or "refused by the bank")
            return "failed"
        if payment.state == State.SUCCEEDED:
            return _attention(payment, "the bank says it failed after it succeeded")
        return "ignored: already " + payment.state
    return "ignored: " + what  # e.g. a late "processing" after the outcome


def _reason(webhook: WebhookEvent) -> str:
    try:
        return str(json.loads(webhook.raw_body).get("reason", ""))[:200]
    except ValueError:
        return ""


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


# --- recovery -----------------------------------------------------------------------------------


def payments_recover(*, limit: int = 200) -> dict[str, int]:
    """Beat job: every overdue unfinished payment moves on (see the module docstring), and
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


# --- cancel (the customer) ----------------------------------------------------------------------

CANCELED_BY_CUSTOMER = "requested_by_customer"


def _cancelable(payment: Payment) -> bool:
    """Not at the bank yet: before processing, or processing with no REQUEST attempt claimed.
    A step run claims its attempt (step_attempts) under the row lock and calls the provider
    only after that commits, so once an attempt is claimed the request may be at the bank."""
    if payment.state in (State.REQUIRES_CONFIRMATION, State.IN_REVIEW):
        return True
    return (
        payment.state == State.PROCESSING
        and payment.step == Step.REQUEST
        and payment.step_attempts == 0
    )


@transaction.atomic
def payment_cancel(*, user_id: int, payment_id: UUID) -> None:
    """The owner cancels a payment that has not reached the bank: its hold and limit usage
    are released. Under the payment's row lock, as the step runner's claim, so a cancel and a
    step run never both happen. A canceled payment is left as it is (idempotent)."""
    payment = Payment.objects.select_for_update().filter(pk=payment_id, user_id=user_id).first()
    if payment is None:
        raise errors.PaymentNotFound()
    if payment.state == State.CANCELED:
        return
    if not _cancelable(payment):
        raise errors.PaymentNotCancelable(state=payment.state)
    RiskReview.objects.filter(payment=payment, decision=RiskReview.Decision.PENDING).update(
        decision=RiskReview.Decision.WITHDRAWN,
        decided_at=timezone.now(),
        note="canceled by the customer",
    )
    payment.cancellation_reason = CANCELED_BY_CUSTOMER
    payment.save(update_fields=["cancellation_reason", "updated_at"])
    _fail(payment, CANCELED_BY_CUSTOMER, "canceled by the customer", to=State.CANCELED)


def no_payment_in_flight(user_id: int) -> None:
    """Account closure waits until no deposit or withdrawal of the user is unfinished."""
    if Payment.objects.filter(user_id=user_id).exclude(state__in=TERMINAL).exists():
        raise accounts_services.AccountBusy()
