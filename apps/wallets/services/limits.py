"""KYC tier limits and the per-user spending gate that every outgoing payment passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import connection

from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.ledger import selectors as ledger_selectors
from apps.wallets import selectors
from apps.wallets.errors import (
    CurrencyMismatch,
    LimitExceeded,
    NotAllowedToSend,
    WalletClosed,
    WalletFrozen,
)
from apps.wallets.models import SpendingGate, Wallet, WalletMember, WalletStatus


def _recipient_wallet_id(destination: str, currency: str) -> UUID | None:
    return selectors.recipient_wallet_id(destination=destination, currency=currency)


def _check_limits(
    *,
    wallet: Wallet,
    sender_id: int,
    role: str,
    total: Money,
    gate: _Gate,
    limits: Any,
) -> None:
    refuse = _refuser(total)
    _check_sender_limits(limits, total, gate, refuse)
    if role != "owner":  # a member of a shared wallet: their own daily limit on it
        member = WalletMember.objects.get(wallet=wallet, user_id=sender_id)
        if member.daily_limit is not None:
            day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            used = selectors.sent_from_wallet_since(
                user_id=sender_id, wallet_id=wallet.pk, currency=total.currency, since=day
            )
            if used.amount + total.amount > member.daily_limit:
                refuse("member_daily", Money(member.daily_limit, total.currency), used)


def _refuser(total: Money) -> Any:
    def refuse(limit: str, allowed: Money, used: Money) -> None:
        raise LimitExceeded(
            limit=limit,
            limit_amount=allowed.amount,
            used=used.amount,
            requested=total.amount,
            currency=total.currency,
        )

    return refuse


def _check_sender_limits(limits: Any, total: Money, gate: _Gate, refuse: Any) -> None:
    if total > limits.per_transaction:
        refuse("per_transaction", limits.per_transaction, Money(0, total.currency))
    if gate.today + total > limits.daily:
        refuse("daily", limits.daily, gate.today)
    if gate.this_month + total > limits.monthly:
        refuse("monthly", limits.monthly, gate.this_month)


def _check_max_balance(wallet: Wallet, total: Money, name: str) -> None:
    limits = kyc_selectors.limits_for(user_id=wallet.owner_id, currency=total.currency)
    balance = ledger_selectors.account_balance(account_id=wallet.ledger_account_id).posted
    if balance + total > limits.max_balance:
        _refuser(total)(name, limits.max_balance, balance)


def _owned_open_wallet(wallet_id: UUID, user_id: int, amount: Money) -> Wallet:
    visible = selectors.visible_wallet(wallet_id=wallet_id, user_id=user_id)
    wallet = visible.wallet
    if visible.role != "owner":
        raise NotAllowedToSend("Only the wallet's owner can move money in or out of it.")
    if wallet.status == WalletStatus.CLOSED:
        raise WalletClosed()
    if amount.currency != wallet.currency:
        raise CurrencyMismatch(wallet_currency=wallet.currency, currency=amount.currency)
    return wallet


def spend_reserve(*, wallet_id: UUID, user_id: int, amount: Money) -> UUID:
    """Money leaving the platform from a wallet (a withdrawal): inside the caller's
    transaction, lock the user's spending gate, check the wallet may send and the tier's
    per-transaction, daily and monthly limits, and count the amount. Returns the wallet's
    ledger account (the caller holds the funds there)."""
    gate = _lock_spending_gate(user_id, amount.currency)
    wallet = _owned_open_wallet(wallet_id, user_id, amount)
    if wallet.status == WalletStatus.FROZEN:
        raise WalletFrozen()
    limits = kyc_selectors.limits_for(user_id=user_id, currency=amount.currency)
    _check_sender_limits(limits, amount, gate, _refuser(amount))
    _count_spending(user_id, gate, amount)
    return wallet.ledger_account_id


def spend_release(*, user_id: int, amount: Money, counted_on: datetime) -> None:
    """Give back limit usage of money that did not leave after all (a failed withdrawal),
    if it was counted in the current day or month."""
    gate = _lock_spending_gate(user_id, amount.currency)
    today, day = datetime.now(UTC).date(), counted_on.astimezone(UTC).date()
    SpendingGate.objects.filter(user_id=user_id, currency=amount.currency).update(
        day_total=max((gate.today - amount).amount, 0) if day == today else gate.today.amount,
        month_total=max((gate.this_month - amount).amount, 0)
        if day.replace(day=1) == today.replace(day=1)
        else gate.this_month.amount,
        day=today,
        month=today.replace(day=1),
    )


def receive_check(*, wallet_id: UUID, user_id: int, amount: Money) -> UUID:
    """Money coming in from outside (a deposit): the owner's open wallet in that currency,
    within the tier's maximum balance. Returns the wallet's ledger account."""
    wallet = _owned_open_wallet(wallet_id, user_id, amount)
    _check_max_balance(wallet, amount, "max_balance")
    return wallet.ledger_account_id


@dataclass(frozen=True)
class _Gate:
    today: Money
    this_month: Money


def _lock_spending_gate(user_id: int, currency: str) -> _Gate:
    """One statement: create the user's gate row if missing and lock it (DO UPDATE locks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wallets_spendinggate (user_id, currency, day_total, month_total)"
            " VALUES (%s, %s, 0, 0) ON CONFLICT (user_id, currency)"
            " DO UPDATE SET user_id = EXCLUDED.user_id"
            " RETURNING day, day_total, month, month_total",
            [user_id, currency],
        )
        day, day_total, month, month_total = cursor.fetchone()
        return _gate_of(day, day_total, month, month_total, currency)


def _gate_of(day: Any, day_total: int, month: Any, month_total: int, currency: str) -> _Gate:
    """Today's and this month's totals so far (UTC calendar)."""
    today = datetime.now(UTC).date()
    return _Gate(
        Money(day_total if day == today else 0, currency),
        Money(month_total if month == today.replace(day=1) else 0, currency),
    )


# The wallet columns the transfer's first statement reads, in its order: all of them (a test
# keeps it so; a missing one would load lazily, one query each).
_WALLET_FIELDS = [
    "id",
    "owner_id",
    "currency",
    "name",
    "status",
    "is_default",
    "is_shared",
    "ledger_account_id",
    "created_at",
]


def _lock_gate_and_load(
    user_id: int, currency: str, wallet_id: UUID, other_id: UUID | None
) -> tuple[_Gate, dict[UUID, tuple[Wallet, str | None]]]:
    """A transfer's first statement: lock the sender's gate (as `_lock_spending_gate`) and
    read both wallets with the sender's role on each (None: not theirs to see)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH gate AS (INSERT INTO wallets_spendinggate (user_id, currency, day_total,"
            " month_total) VALUES (%(user)s, %(currency)s, 0, 0) ON CONFLICT (user_id, currency)"
            " DO UPDATE SET user_id = EXCLUDED.user_id RETURNING day, day_total, month,"
            " month_total)"
            " SELECT g.day, g.day_total, g.month, g.month_total, m.role, w.id, w.owner_id,"
            " w.currency, w.name, w.status, w.is_default, w.is_shared, w.ledger_account_id,"
            " w.created_at FROM gate g LEFT JOIN wallets_wallet w ON w.id IN (%(a)s, %(b)s)"
            " LEFT JOIN wallets_walletmember m ON m.wallet_id = w.id AND m.user_id = %(user)s",
            {"user": user_id, "currency": currency, "a": wallet_id, "b": other_id or wallet_id},
        )
        rows = cursor.fetchall()
    found = {}
    # Each row: the gate's columns (the same on every row), the sender's member role on the
    # wallet, then the wallet's columns in _WALLET_FIELDS order (all None: no such wallet).
    for _day, _day_total, _month, _month_total, role, *wallet_columns in rows:
        if wallet_columns[0] is not None:
            wallet = Wallet.from_db(connection.alias, _WALLET_FIELDS, wallet_columns)
            found[wallet.pk] = (wallet, "owner" if wallet.owner_id == user_id else role)
    day, day_total, month, month_total, *_ = rows[0]
    return _gate_of(day, day_total, month, month_total, currency), found


def _counted(gate: _Gate, total: Money) -> dict[str, Any]:
    """The gate's columns once `total` is counted (today's day and month, UTC)."""
    today = datetime.now(UTC).date()
    return {
        "day": today,
        "day_total": (gate.today + total).amount,
        "month": today.replace(day=1),
        "month_total": (gate.this_month + total).amount,
    }


def _count_spending(user_id: int, gate: _Gate, total: Money) -> None:
    SpendingGate.objects.filter(user_id=user_id, currency=total.currency).update(
        **_counted(gate, total)
    )
