"""Public reads of apps.payments."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, QuerySet
from django.utils import timezone

from apps.ledger import selectors as ledger_selectors
from apps.payments import providers
from apps.payments.errors import PaymentNotFound
from apps.payments.models import FundingSource, Payment, PaymentEvent, WebhookEvent


def funding_sources(*, user_id: int) -> QuerySet[FundingSource]:
    return FundingSource.objects.filter(user_id=user_id, removed_at__isnull=True).order_by(
        "-created_at"
    )


def payments(*, user_id: int, direction: str | None = None) -> QuerySet[Payment]:
    rows = Payment.objects.filter(user_id=user_id).select_related("funding_source")
    return rows.filter(direction=direction) if direction else rows


def payment_get(*, user_id: int, payment_id: UUID) -> Payment:
    payment = payments(user_id=user_id).filter(pk=payment_id).first()
    if payment is None:
        raise PaymentNotFound()
    return payment


def payment_history(*, payment: Payment) -> list[dict[str, Any]]:
    """The state changes a customer may see (not provider or staff details)."""
    return [
        {"from": e.from_state or None, "to": e.to_state, "at": e.at}
        for e in payment.timeline.filter(kind="state")
    ]


def bank_status(*, payment: Payment) -> dict[str, str]:
    """What the provider says of the payment now (a network call: never inside a
    transaction); `error` instead when it cannot be reached."""
    try:
        status = providers.get(payment.provider).status(payment_id=str(payment.pk))
    except providers.ProviderError as exc:
        return {"error": f"the bank could not be reached: {exc}"}
    return {"state": status.state, "reason": status.reason}


def payment_webhooks(*, payment_id: UUID) -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(payment_id=payment_id).order_by("received_at")


def payment_bookings(*, payment: Payment) -> list[ledger_selectors.TransactionView]:
    """The ledger transactions that moved this payment's money (settlement, hold settlement,
    staff resolutions), with their entries."""
    keys = [f"payment:{payment.pk}:settle"]
    if payment.hold_id:
        keys.append(f"hold:{payment.hold_id}:post")
    actions = payment.manual_actions.values_list("pk", flat=True)
    keys += [f"payment:{payment.pk}:resolve:{pk}" for pk in actions]
    ids = [payment.ledger_transaction_id]
    ids += [ledger_selectors.transaction_id_by_key(idempotency_key=key) for key in keys]
    found = dict.fromkeys(i for i in ids if i is not None)
    return [ledger_selectors.transaction_get(transaction_id=i) for i in found]


def settlement_report(*, provider: str, day: date) -> list[dict[str, Any]]:
    """The provider's own settlement report for a day (a network call for real providers)."""
    return providers.get(provider).settlement_report(day=day)


def settled_on(*, day: date) -> list[dict[str, Any]]:
    """Our payments that succeeded on a day (UTC), as the bank should report them."""
    rows = PaymentEvent.objects.filter(kind="state", to_state="succeeded", at__date=day)
    return [
        {
            "reference": str(e.payment_id),
            "provider": e.payment.provider,
            "direction": "collect" if e.payment.direction == "deposit" else "payout",
            "amount": e.payment.amount,
            "currency": e.payment.currency,
        }
        for e in rows.select_related("payment")
    ]


def providers_used() -> list[str]:
    return list(Payment.objects.values_list("provider", flat=True).distinct())


def attention() -> dict[str, int]:
    """Payments a person should look at: in review, overdue, contradicted by the bank."""
    return {
        "in_review": Payment.objects.filter(state="in_review").count(),
        "overdue": Payment.objects.filter(state="processing", due_at__lt=timezone.now()).count(),
        "needs_attention": Payment.objects.filter(needs_attention=True).count(),
    }


def overdue(*, payment_id: UUID | None = None) -> list[tuple[UUID, str, str]]:
    rows = Payment.objects.filter(state="processing")
    rows = rows.filter(pk=payment_id) if payment_id else rows.filter(due_at__lte=timezone.now())
    return list(rows.values_list("pk", "state", "step"))


def webhooks_unprocessed(*, payment_id: UUID) -> list[UUID]:
    rows = WebhookEvent.objects.filter(payment_id=payment_id, processed_at__isnull=True)
    return list(rows.order_by("received_at").values_list("pk", flat=True))


def counts_by_state() -> dict[tuple[str, str], int]:
    rows = Payment.objects.values_list("direction", "state").annotate(n=Count("id"))
    return {(direction, state): n for direction, state, n in rows}


def saga_seconds(*, window_minutes: int = 60) -> dict[str, float]:
    """Average seconds from request to final state, per direction, of payments that finished
    in the last window."""
    since = timezone.now() - timedelta(minutes=window_minutes)
    rows = (
        Payment.objects.filter(state__in=["succeeded", "failed", "canceled"], updated_at__gte=since)
        .values("direction")
        .annotate(
            avg=Avg(
                ExpressionWrapper(F("updated_at") - F("created_at"), output_field=DurationField())
            )
        )
    )
    return {r["direction"]: r["avg"].total_seconds() for r in rows if r["avg"] is not None}
