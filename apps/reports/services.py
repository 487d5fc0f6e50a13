"""Public writes of apps.reports: the read side. It keeps read models from ledger events and
reconciles; it never writes money."""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import nullcontext
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from auditlog.context import set_actor
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.notifications import services as notifications_services
from apps.payments import selectors as payments_selectors
from apps.reports.models import (
    AccountDay,
    Break,
    KindDay,
    ReconciliationRun,
    ReportedTransaction,
    SettlementLine,
)
from apps.wallets import selectors as wallets_selectors

logger = logging.getLogger(__name__)

_ACCOUNT_DAY = """
INSERT INTO reports_accountday (account_id, day, kind, currency, debits, credits, entries)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (account_id, day, kind) DO UPDATE SET
  debits = reports_accountday.debits + EXCLUDED.debits,
  credits = reports_accountday.credits + EXCLUDED.credits,
  entries = reports_accountday.entries + EXCLUDED.entries
"""
_KIND_DAY = """
INSERT INTO reports_kindday (day, currency, kind, transactions, amount) VALUES (%s, %s, %s, 1, %s)
ON CONFLICT (day, currency, kind) DO UPDATE SET
  transactions = reports_kindday.transactions + 1,
  amount = reports_kindday.amount + EXCLUDED.amount
"""


def _day(moment: datetime | str) -> date:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).date()


@transaction.atomic
def transaction_count(
    *, transaction_id: str, kind: str, effective_at: datetime | str, legs: list[dict[str, Any]]
) -> bool:
    """Add one ledger transaction to the read models, once (False: it was already counted)."""
    day = _day(effective_at)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reports_reportedtransaction (transaction_id, day) VALUES (%s, %s)"
            " ON CONFLICT DO NOTHING RETURNING transaction_id",
            [transaction_id, day],
        )
        if cursor.fetchone() is None:
            return False
        per_account: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        debited: dict[str, int] = defaultdict(int)
        for leg in legs:
            totals = per_account[(str(leg["account_id"]), leg["currency"])]
            totals[0 if leg["direction"] == "D" else 1] += int(leg["amount"])
            totals[2] += 1
            if leg["direction"] == "D":
                debited[leg["currency"]] += int(leg["amount"])
        for (account_id, currency), (debits, credits, entries) in sorted(per_account.items()):
            cursor.execute(
                _ACCOUNT_DAY, [account_id, day, kind, currency, debits, credits, entries]
            )
        for currency, amount in sorted(debited.items()):
            cursor.execute(_KIND_DAY, [day, currency, kind, amount])
    return True


def rebuild(*, since: date | None = None) -> int:
    """Recompute the read models from the ledger (from `since`, or everything)."""
    start = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    with transaction.atomic():
        for model in (AccountDay, KindDay, ReportedTransaction):
            rows = model.objects.filter(day__gte=since) if since else model.objects.all()
            rows.delete()
        grouped: dict[str, dict[str, Any]] = {}
        for leg in ledger_selectors.legs_between(since=start):
            entry = grouped.setdefault(
                str(leg.transaction_id),
                {"kind": leg.kind, "effective_at": leg.effective_at, "legs": []},
            )
            entry["legs"].append(
                {
                    "account_id": leg.account_id,
                    "direction": leg.direction,
                    "amount": leg.amount,
                    "currency": leg.currency,
                }
            )
        for txn, data in grouped.items():
            transaction_count(transaction_id=txn, **data)
    return len(grouped)


# --- reconciliation -----------------------------------------------------------------------------


def reconcile(*, day: date) -> ReconciliationRun:
    """Internal (ledger, wallets, read models) and external (each provider's settlement report
    against our payments) checks for a day; every break is stored, and operations is told."""
    run = ReconciliationRun.objects.create(day=day)
    breaks: list[tuple[str, str, dict[str, Any]]] = []
    # One check that raises (a provider's report unreadable, a bad row) becomes a break of
    # its own: the others still run, the run finishes and operations hear of it.
    for name, check in (
        ("ledger", _ledger_breaks),
        ("wallets", _wallet_breaks),
        ("read_model", lambda: _read_model_breaks(day)),
        ("settlement", lambda: _settlement_breaks(day)),
    ):
        breaks += _checked(name, check)
    with transaction.atomic():
        Break.objects.bulk_create(
            Break(run=run, kind=kind, reference=ref[:200], detail=detail)
            for kind, ref, detail in breaks
        )
        run.finished_at, run.is_clean = timezone.now(), not breaks
        run.summary = {"breaks": len(breaks), "by_kind": _count(k for k, _, _ in breaks)}
        run.save()
        if breaks:
            logger.error("reconciliation %s: %d break(s)", day, len(breaks))
            notifications_services.staff_alert(
                role="operations",
                kind="reconciliation_breaks",
                context={"day": day.isoformat(), "breaks": len(breaks)},
            )
    return run


def _checked(name: str, check: Any) -> list[tuple[str, str, dict[str, Any]]]:
    # Inside a caller's transaction (a test, a shell) a savepoint keeps a failed check from
    # poisoning it; outside, none, so the provider's report is not fetched inside one.
    scope = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with scope:
            return list(check())
    except Exception as exc:  # noqa: BLE001 - the other checks must still run
        logger.exception("reconciliation: the %s check failed", name)
        return [("check_failed", name, {"error": f"{type(exc).__name__}: {exc}"[:1000]})]


def _count(kinds: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for kind in kinds:
        counts[kind] += 1
    return dict(counts)


def _ledger_breaks() -> list[tuple[str, str, dict[str, Any]]]:
    result = ledger_services.verify(store=True)
    return [(f"ledger_{b['check']}", b["subject"], {"detail": b["detail"]}) for b in result.breaks]


def _wallet_breaks() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for wallet_id, account_id, currency in wallets_selectors.wallet_accounts():
        try:
            account = ledger_selectors.account_get(account_id=account_id)
        except ledger_selectors.AccountNotFound:
            account = None
        if account is None or account.currency != currency:
            out.append(
                (
                    "wallet_account_mismatch",
                    str(wallet_id),
                    {"account_id": str(account_id), "currency": currency},
                )
            )
    return out


def _read_model_breaks(day: date) -> list[tuple[str, str, dict[str, Any]]]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for leg in ledger_selectors.legs_between(since=start, until=start + timedelta(days=1)):
        expected[(str(leg.account_id), leg.kind)][0 if leg.direction == "D" else 1] += leg.amount
    stored = {
        (str(a), k): [d, c]
        for a, k, d, c in AccountDay.objects.filter(day=day).values_list(
            "account_id", "kind", "debits", "credits"
        )
    }
    return [
        (
            "read_model_drift",
            f"{account}/{kind}",
            {
                "ledger": expected.get((account, kind), [0, 0]),
                "read_model": stored.get((account, kind), [0, 0]),
            },
        )
        for account, kind in sorted(set(expected) | set(stored))
        if expected.get((account, kind), [0, 0]) != stored.get((account, kind), [0, 0])
    ]


def _settlement_breaks(day: date) -> list[tuple[str, str, dict[str, Any]]]:
    ours = {p["reference"]: p for p in payments_selectors.settled_on(day=day)}
    providers = set(payments_selectors.providers_used()) | {p["provider"] for p in ours.values()}
    theirs: dict[str, dict[str, Any]] = {}
    out: list[tuple[str, str, dict[str, Any]]] = []
    for provider in sorted(providers):
        try:
            lines = _settlement_lines(provider, day)
        except Exception as exc:  # noqa: BLE001 - one provider must not hide the others
            logger.exception("reconciliation: no settlement report from %s", provider)
            error = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
            out.append(("settlement_report_unavailable", provider, error))
            # Unchecked, not missing: its payments are not reported one by one.
            ours = {ref: p for ref, p in ours.items() if p["provider"] != provider}
            continue
        theirs.update({line["reference"]: {**line, "provider": provider} for line in lines})
    for ref in sorted(set(ours) | set(theirs)):
        mine, bank = ours.get(ref), theirs.get(ref)
        if bank is None:
            out.append(("missing_at_provider", ref, {"ours": mine}))
        elif mine is None:
            out.append(("missing_on_our_side", ref, {"theirs": bank}))
        elif (mine["amount"], mine["currency"]) != (bank["amount"], bank["currency"]):
            out.append(("amount_mismatch", ref, {"ours": mine, "theirs": bank}))
    return out


def _settlement_lines(provider: str, day: date) -> list[dict[str, Any]]:
    """Lines operations uploaded for the day, else the provider's own report."""
    uploaded = SettlementLine.objects.filter(provider=provider, day=day)
    if not uploaded.exists():
        return payments_selectors.settlement_report(provider=provider, day=day)
    return [
        {
            "reference": line.reference,
            "direction": line.direction,
            "amount": line.amount,
            "currency": line.currency,
        }
        for line in uploaded
    ]


@transaction.atomic
def break_update(*, break_id: int, status: str, staff_id: int, note: str = "") -> None:
    """The only way a break changes: an operator could otherwise make one disappear unnoticed.
    `save()` on the locked row lets the staff action log (django-auditlog, append-only) record
    who changed what from what, committed together with the change."""
    item = Break.objects.select_for_update().get(pk=break_id)
    item.status, item.assigned_to_id, item.note = status, staff_id, note
    item.full_clean(exclude=["detail"])  # as found; an empty one is not the caller's doing
    with set_actor(get_user_model().objects.get(pk=staff_id)):
        item.save(update_fields=["status", "assigned_to", "note"])
