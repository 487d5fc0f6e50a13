"""Creating deposits and withdrawals (each a saga, see the package docstring), and the
customer's cancel of one that has not reached the bank."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts import services as accounts_services
from apps.core.events import publish
from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.payments import errors, risk
from apps.payments.events import PaymentInReview
from apps.payments.models import (
    TERMINAL,
    FundingSource,
    Payment,
    RiskReview,
    State,
)
from apps.payments.services._common import (
    Step,
    _clearing,
    _fail,
    _log,
    _queue_step,
    _source,
    _transition,
)
from apps.wallets import services as wallets_services


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
