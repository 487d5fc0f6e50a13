"""Public reads of apps.payments."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from apps.payments.errors import PaymentNotFound
from apps.payments.models import FundingSource, Payment


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


def payment_history(*, payment: Payment) -> list[dict]:
    """The state changes a customer may see (not provider or staff details)."""
    return [
        {"from": e.from_state or None, "to": e.to_state, "at": e.at}
        for e in payment.timeline.filter(kind="state")
    ]
