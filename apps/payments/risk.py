"""Risk rules run before money moves: each returns nothing or (outcome, reason); the strictest
outcome wins. Thresholds per currency in minor units: apps.core.risk (settings.PAYMENTS_RISK
as defaults, compliance's edits in the admin over them)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.core.risk import ALLOW, DENY, REVIEW, Decision, amount_assess, amount_limits, max_per_hour
from apps.payments.models import FundingSource, Payment, State

__all__ = ["ALLOW", "DENY", "REVIEW", "Decision", "assess"]


def assess(*, user_id: int, direction: str, amount: int, currency: str, source: FundingSource):
    decision = Decision()
    user = accounts_selectors.user_get(user_id=user_id)
    if user is None or not user.is_active:
        decision.add(DENY, "user_blocked")
    amount_assess(decision, amount=amount, currency=currency)
    limits = amount_limits(currency)
    since_hour, since_day = timezone.now() - timedelta(hours=1), timezone.now() - timedelta(days=1)
    recent = Payment.objects.filter(user_id=user_id, direction=direction).exclude(
        state__in=[State.FAILED, State.CANCELED]
    )
    last_hour = recent.filter(created_at__gte=since_hour).aggregate(n=Count("id"))["n"]
    if last_hour >= max_per_hour():
        decision.add(REVIEW, "velocity_per_hour")
    last_day = (
        recent.filter(created_at__gte=since_day, currency=currency).aggregate(total=Sum("amount"))[
            "total"
        ]
        or 0
    )
    if last_day + amount > limits["review_per_day"]:
        decision.add(REVIEW, "velocity_per_day")
    if direction == Payment.Direction.WITHDRAWAL and source.created_at > since_day:
        decision.add(REVIEW, "new_funding_source")
    return decision
