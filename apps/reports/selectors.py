"""Public reads of apps.reports: summaries and daily snapshots from the read models."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from apps.reports.models import AccountDay, Break, KindDay


def summary(*, account_id: UUID, since: date, until: date) -> dict[str, Any]:
    """Money in and out of one account by kind and by month (credits in, debits out)."""
    rows = AccountDay.objects.filter(account_id=account_id, day__gte=since, day__lte=until)
    by_kind = {
        r["kind"]: {"in": r["c"], "out": r["d"]}
        for r in rows.values("kind").annotate(c=Sum("credits"), d=Sum("debits")).order_by("kind")
    }
    by_month = {
        r["month"].strftime("%Y-%m"): {"in": r["c"], "out": r["d"]}
        for r in rows.annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(c=Sum("credits"), d=Sum("debits"))
        .order_by("month")
    }
    return {"by_kind": by_kind, "by_month": by_month}


def daily_snapshots(
    *, account_id: UUID, since: date, until: date, sign: int = 1
) -> list[dict[str, Any]]:
    """Opening, credits, debits and closing per day (a wallet: credits raise the balance)."""
    before = AccountDay.objects.filter(account_id=account_id, day__lt=since).aggregate(
        c=Sum("credits"), d=Sum("debits")
    )
    balance = sign * ((before["c"] or 0) - (before["d"] or 0))
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, credits, debits in AccountDay.objects.filter(
        account_id=account_id, day__gte=since, day__lte=until
    ).values_list("day", "credits", "debits"):
        days[day][0] += credits
        days[day][1] += debits
    out = []
    for day in sorted(days):
        credits, debits = days[day]
        closing = balance + sign * (credits - debits)
        out.append(
            {
                "day": day,
                "opening": balance,
                "credits": credits,
                "debits": debits,
                "closing": closing,
            }
        )
        balance = closing
    return out


def volumes(*, day: date) -> list[Mapping[str, Any]]:
    return list(
        KindDay.objects.filter(day=day)
        .values("kind", "currency", "transactions", "amount")
        .order_by("currency", "kind")
    )


def open_breaks() -> int:
    return Break.objects.exclude(status=Break.Status.RESOLVED).count()
