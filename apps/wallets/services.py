"""Public writes of apps.wallets: wallets, their status, shared members and P2P transfers."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.accounts import services as accounts_services
from apps.core import batch
from apps.core.errors import DomainError
from apps.core.events import dispatch_after_commit, outbox_row, publish
from apps.core.money import Money
from apps.core.risk import DENY, REVIEW, Decision, amount_assess
from apps.kyc import selectors as kyc_selectors
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.wallets import selectors
from apps.wallets.errors import (
    AlreadyMember,
    CurrencyMismatch,
    DeciderIsParty,
    InvitationNotFound,
    InvitationNotPending,
    LimitExceeded,
    MemberNotFound,
    MoneyRequestNotFound,
    MoneyRequestNotPending,
    NotAllowedToSend,
    NotWalletOwner,
    RecipientNotFound,
    ReviewAlreadyDecided,
    RiskDenied,
    SelfRequest,
    SelfTransfer,
    WalletClosed,
    WalletExists,
    WalletFrozen,
    WalletHasOpenHolds,
    WalletNotEmpty,
    WalletNotFound,
    WalletNotShared,
)
from apps.wallets.events import (
    MoneyRequestClosed,
    MoneyRequested,
    TransferCompleted,
    TransferInReview,
    TransferReviewApproved,
    TransferReviewDeclined,
    WalletCreated,
    WalletInvitationAnswered,
    WalletMemberChanged,
    WalletMemberInvited,
    WalletMemberRemoved,
    WalletStatusChanged,
)
from apps.wallets.models import (
    MemberRole,
    MoneyRequest,
    SpendingGate,
    Transfer,
    TransferReview,
    Wallet,
    WalletInvitation,
    WalletMember,
    WalletMemberChange,
    WalletStatus,
    WalletStatusChange,
)
from apps.wallets.selectors import TransferView

__all__ = [
    "wallet_create",
    "wallet_member_add",
    "wallet_set_status",
    "wallet_close",
    "wallet_close_by_staff",
    "wallet_invitation_create",
    "wallet_invitation_answer",
    "wallet_member_update",
    "wallet_member_remove",
    "money_request_create",
    "money_request_accept",
    "money_request_decline",
    "money_request_cancel",
    "money_requests_expire",
    "transfer_create",
    "TransferView",
    "transfer_review_decide",
    "default_wallet_ensure",
    "owner_wallets_close",
    "receive_check",
    "spend_release",
    "spend_reserve",
    "CurrencyMismatch",
    "NotAllowedToSend",
    "WalletClosed",
    "LimitExceeded",
    "WalletFrozen",
    "WalletNotFound",
]


@transaction.atomic
def wallet_create(
    *, owner_id: int, currency: str, name: str = "", shared: bool = False, is_default: bool = False
) -> UUID:
    """Open a wallet backed by a new no-overdraft ledger account."""
    Money(0, currency)  # refuses unknown currencies
    # Money paid into a wallet the ledger has no system accounts for could never be booked.
    ledger_selectors.currency_check(code=currency)
    wallet_id = uuid4()
    account_id = ledger_services.account_create(
        code=f"wallet:{wallet_id}",
        name=name or f"Wallet {currency}",
        type="liability",
        currency=currency,
        owner_type="wallet",
        owner_id=str(wallet_id),
        rule="debits_must_not_exceed_credits",
    )
    try:
        with transaction.atomic():
            Wallet.objects.create(
                id=wallet_id,
                owner_id=owner_id,
                currency=currency,
                name=name,
                is_shared=shared,
                is_default=is_default,
                ledger_account_id=account_id,
            )
    except IntegrityError:
        raise WalletExists(currency=currency) from None
    publish(WalletCreated(wallet_id=str(wallet_id), owner_id=owner_id, currency=currency))
    return wallet_id


def default_wallet_ensure(*, owner_id: int, currency: str) -> UUID:
    """The sign-up wallet; idempotent (an event handled twice opens one wallet)."""
    existing = (
        Wallet.objects.filter(owner_id=owner_id, currency=currency, is_shared=False)
        .values_list("pk", flat=True)
        .first()
    )
    if existing:
        return existing
    return wallet_create(owner_id=owner_id, currency=currency, is_default=True)


@transaction.atomic
def wallet_member_add(
    *,
    wallet_id: UUID,
    owner_id: int,
    member_id: int,
    role: str = MemberRole.SPENDER,
    daily_limit: Money | None = None,
) -> None:
    visible = selectors.visible_wallet(wallet_id=wallet_id, user_id=owner_id)
    wallet = visible.wallet
    if visible.role != "owner" or not wallet.is_shared:
        raise NotAllowedToSend("Only the owner of a shared wallet adds members.")
    if daily_limit is not None and daily_limit.currency != wallet.currency:
        raise CurrencyMismatch()
    WalletMember.objects.update_or_create(
        wallet=wallet,
        user_id=member_id,
        defaults={"role": role, "daily_limit": daily_limit.amount if daily_limit else None},
    )


@transaction.atomic
def wallet_set_status(
    *, wallet_id: UUID, status: str, reason: str, changed_by_id: int | None
) -> None:
    """Freeze, unfreeze or close, with the reason kept; the ledger account follows."""
    if not reason.strip():
        raise ValidationError({"reason": ["A reason is required."]})
    # NO KEY: a transfer being posted to this wallet holds its shard locks and then checks
    # its foreign key on this row; a full row lock here would deadlock the two.
    wallet = Wallet.objects.select_for_update(no_key=True).filter(pk=wallet_id).first()
    if wallet is None:
        raise WalletNotFound()
    if wallet.status == status:
        return
    if wallet.status == WalletStatus.CLOSED:  # closing is final: its account is settled
        raise WalletClosed()
    WalletStatusChange.objects.create(
        wallet=wallet,
        from_status=wallet.status,
        to_status=status,
        reason=reason,
        changed_by_id=changed_by_id,
    )
    ledger_services.account_set_status(account_id=wallet.ledger_account_id, status=status)
    publish(
        WalletStatusChanged(
            wallet_id=str(wallet.pk),
            owner_id=wallet.owner_id,
            from_status=wallet.status,
            to_status=status,
            reason=reason,
        )
    )
    wallet.status = status
    wallet.save(update_fields=["status"])


def _close(wallet_id: UUID, reason: str, changed_by_id: int) -> None:
    """Close, refused while the wallet holds money or has money reserved or on its way.
    Closing first takes the ledger's shard locks, so no posting lands between the checks
    and the closure; a refusal rolls the closure back with the caller's transaction."""
    wallet_set_status(
        wallet_id=wallet_id,
        status=WalletStatus.CLOSED,
        reason=reason,
        changed_by_id=changed_by_id,
    )
    wallet = Wallet.objects.get(pk=wallet_id)
    balance = ledger_selectors.account_balance(account_id=wallet.ledger_account_id)
    in_review = TransferReview.objects.filter(
        Q(source_wallet_id=wallet_id) | Q(destination_wallet_id=wallet_id),
        state=TransferReview.State.PENDING,
    ).count()
    if balance.pending.amount or in_review:
        raise WalletHasOpenHolds(
            pending=balance.pending.amount, transfers_in_review=in_review, currency=wallet.currency
        )
    if balance.posted.amount:
        raise WalletNotEmpty(posted=balance.posted.amount, currency=wallet.currency)


@transaction.atomic
def wallet_close(*, wallet_id: UUID, user_id: int) -> None:
    """The owner closes one of their wallets; closing a closed wallet changes nothing."""
    visible = selectors.visible_wallet(wallet_id=wallet_id, user_id=user_id)
    wallet = visible.wallet
    if visible.role != "owner":
        raise NotWalletOwner()
    if wallet.status != WalletStatus.CLOSED:
        _close(wallet.pk, "closed by the owner", user_id)


@transaction.atomic
def wallet_close_by_staff(*, wallet_id: UUID, staff_id: int, reason: str) -> None:
    """Staff close a wallet with a reason kept in its status trail (same refusals)."""
    if not reason.strip():
        raise ValidationError({"reason": ["A reason is required."]})
    status = Wallet.objects.filter(pk=wallet_id).values_list("status", flat=True).first()
    if status is None:
        raise WalletNotFound()
    if status != WalletStatus.CLOSED:
        _close(wallet_id, reason, staff_id)


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


def _transfer_checked(
    source_wallet_id: UUID,
    target_id: UUID | None,
    user_id: int,
    amount: Money,
    fee: Money,
    gate: _Gate,
    found: dict[UUID, tuple[Wallet, str | None]],
) -> tuple[Wallet, Wallet, Money]:
    """Everything a transfer must pass before it posts: both ends, their states, currencies
    and the sender's limits. Returns the ends and the recipient's maximum balance, which the
    ledger checks under the recipient's lock."""
    wallet, role = found.get(source_wallet_id, (None, None))
    if wallet is None or role is None:
        raise WalletNotFound()
    if role not in ("owner", *selectors.MEMBER_CAN_SEND):
        raise NotAllowedToSend()
    if wallet.status == WalletStatus.FROZEN:
        raise WalletFrozen()
    if wallet.status == WalletStatus.CLOSED:
        raise WalletClosed()
    target = found[target_id][0] if target_id in found else None
    if target is None:
        raise RecipientNotFound()
    if amount.currency != wallet.currency or target.currency != wallet.currency:
        raise CurrencyMismatch(wallet_currency=wallet.currency, currency=amount.currency)
    if target.pk == wallet.pk:
        raise SelfTransfer()
    if target.status == WalletStatus.CLOSED:
        raise WalletClosed("The recipient's wallet is closed.")
    limits = kyc_selectors.limits_for_users(
        user_ids=[user_id, target.owner_id], currency=amount.currency
    )
    _check_limits(
        wallet=wallet,
        sender_id=user_id,
        role=role,
        total=amount + fee,
        gate=gate,
        limits=limits[user_id],
    )
    return wallet, target, limits[target.owner_id].max_balance


def _earlier_transfer(
    ledger_key: str, source_wallet_id: UUID, destination: str, amount: Money, note: str
) -> TransferView | None:
    """The transfer this business key already made, if it is this request's; the same key
    for another request is refused."""
    transaction_id = ledger_selectors.transaction_id_by_key(idempotency_key=ledger_key)
    transfer = (
        Transfer.objects.filter(ledger_transaction_id=transaction_id).first()
        if transaction_id
        else None
    )
    if transfer is None:
        return None
    same = str(transfer.source_wallet_id) == str(source_wallet_id) and (
        transfer.amount,
        transfer.currency,
        transfer.note,
    ) == (amount.amount, amount.currency, note[:200])
    with contextlib.suppress(ValueError):  # an e-mail or phone: the wallet behind it may differ
        same = same and transfer.destination_wallet_id == UUID(destination)
    if not same:
        raise ledger_services.IdempotencyKeyReused(transaction_id=str(transaction_id))
    return selectors.transfer_data(transfer)


@transaction.atomic
def transfer_create(
    *,
    source_wallet_id: UUID,
    destination: str,
    amount: Money,
    requested_by_id: int,
    idempotency_key: str,
    note: str = "",
) -> TransferView:
    """Send money from a wallet to another user's (or one's own other) wallet, atomically.

    Lock order: the sender's spending gate (limits span all their wallets), then the ledger's
    account shards in its global order. The ledger posting carries a permanent business key,
    so a retry after the HTTP idempotency record expired still posts once.
    """
    ledger_key = f"p2p:{requested_by_id}:{idempotency_key}"
    fee = Money(settings.WALLETS_P2P_FEE, amount.currency)
    source_wallet_id = UUID(str(source_wallet_id))
    target_id = _recipient_wallet_id(destination, amount.currency)
    gate, found = _lock_gate_and_load(requested_by_id, amount.currency, source_wallet_id, target_id)
    try:
        wallet, target, recipient_max = _transfer_checked(
            source_wallet_id, target_id, requested_by_id, amount, fee, gate, found
        )
        # The payments' amount thresholds (one set of settings), pure Python: no query here.
        decision = amount_assess(Decision(), amount=amount.amount, currency=amount.currency)
        if decision.outcome == DENY:
            raise RiskDenied(reasons=decision.reasons)
    except DomainError:
        # A retry of a transfer that went through must get the transfer, even if the wallet
        # has been frozen or the limit used up since.
        earlier = _earlier_transfer(ledger_key, source_wallet_id, destination, amount, note)
        if earlier is None:
            held = TransferReview.objects.filter(ledger_key=ledger_key).first()
            if held is None:
                raise
            return selectors.transfer_review_data(held)
        return earlier
    if decision.outcome == REVIEW:
        return _transfer_hold_for_review(
            wallet, target, amount, fee, note, requested_by_id, ledger_key, gate, decision
        )
    legs = [
        ledger_services.Leg(wallet.ledger_account_id, "D", amount + fee),
        ledger_services.Leg(target.ledger_account_id, "C", amount, recipient_max.amount),
    ]
    if fee.amount:
        legs.append(
            ledger_services.Leg(
                ledger_selectors.system_account_id(purpose="fees_income", currency=fee.currency),
                "C",
                fee,
            )
        )
    try:
        posting = ledger_services.transaction_post(
            legs=legs,
            idempotency_key=ledger_key,
            kind="p2p",
            description=note[:200],
            created_by=f"user:{requested_by_id}",
            metadata={
                "note": note[:200],
                "source_wallet": str(wallet.pk),
                "destination_wallet": str(target.pk),
            },
            savepoint=False,  # any refusal ends this transaction
        )
    except ledger_services.AccountFrozen as error:
        raise WalletFrozen() from error
    except ledger_services.AccountClosed as error:
        raise WalletClosed() from error
    except ledger_services.BalanceCeilingExceeded as error:
        # Neither the recipient's balance nor their tier's maximum is the sender's business.
        raise LimitExceeded(
            limit="recipient_max_balance", requested=amount.amount, currency=amount.currency
        ) from error
    if posting.replayed:
        return selectors.transfer_data(
            Transfer.objects.get(ledger_transaction_id=posting.transaction_id)
        )
    transfer = Transfer(  # its id: the model's time-ordered default
        source_wallet_id=wallet.pk,
        destination_wallet_id=target.pk,
        amount=amount.amount,
        fee=fee.amount,
        currency=amount.currency,
        note=note[:200],
        requested_by_id=requested_by_id,
        ledger_transaction_id=posting.transaction_id,
        created_at=timezone.now(),
    )
    event = TransferCompleted(
        transfer_id=str(transfer.pk),
        source_wallet_id=str(wallet.pk),
        destination_wallet_id=str(target.pk),
        sender_id=requested_by_id,
        recipient_id=target.owner_id,
        amount=amount.amount,
        fee=fee.amount,
        currency=amount.currency,
        note=transfer.note,
    )
    _count_and_record(transfer, gate, outbox_row(event))
    return selectors.transfer_data(transfer)


def _count_and_record(transfer: Transfer, gate: _Gate, event: list[Any]) -> None:
    """One statement: count the transfer (and its fee) against the sender's limits, write
    the transfer row and its event (core's outbox writer, as `publish()` calls it)."""
    counted = _counted(gate, Money(transfer.amount + transfer.fee, transfer.currency))
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH counted AS (UPDATE wallets_spendinggate SET day = %s, day_total = %s,"
            " month = %s, month_total = %s WHERE user_id = %s AND currency = %s),"
            " event AS (SELECT core_outbox_write(%s, %s, %s::jsonb, %s))"
            " INSERT INTO wallets_transfer (id, source_wallet_id, destination_wallet_id, amount,"
            " fee, currency, note, requested_by_id, ledger_transaction_id, created_at)"
            " SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM event",  # FROM: runs the write
            [
                *counted.values(),
                transfer.requested_by_id,
                transfer.currency,
                *event,
                transfer.id,
                transfer.source_wallet_id,
                transfer.destination_wallet_id,
                transfer.amount,
                transfer.fee,
                transfer.currency,
                transfer.note,
                transfer.requested_by_id,
                transfer.ledger_transaction_id,
                transfer.created_at,
            ],
        )
    dispatch_after_commit(event[0], event[1])


def _transfer_hold_for_review(
    wallet: Wallet,
    target: Wallet,
    amount: Money,
    fee: Money,
    note: str,
    requested_by_id: int,
    ledger_key: str,
    gate: _Gate,
    decision: Decision,
) -> TransferView:
    """Reserve the transfer's money on the sender's account (available drops, nothing moves)
    and leave the decision to staff. Counted against the sender's limits now, as the money
    is no longer theirs to spend; a decline gives the usage back."""
    try:
        hold = ledger_services.hold_create(
            debit_account_id=wallet.ledger_account_id,
            credit_account_id=target.ledger_account_id,
            amount=amount + fee,
            idempotency_key=f"{ledger_key}:review",
            kind="p2p_review",
            description=note[:200],
            metadata={"source_wallet": str(wallet.pk), "destination_wallet": str(target.pk)},
        )
    except ledger_services.AccountFrozen as error:
        raise WalletFrozen() from error
    except ledger_services.AccountClosed as error:
        raise WalletClosed() from error
    if hold.replayed:
        return selectors.transfer_review_data(TransferReview.objects.get(hold_id=hold.hold_id))
    review = TransferReview.objects.create(
        source_wallet_id=wallet.pk,
        destination_wallet_id=target.pk,
        amount=amount.amount,
        fee=fee.amount,
        currency=amount.currency,
        note=note[:200],
        requested_by_id=requested_by_id,
        ledger_key=ledger_key,
        hold_id=hold.hold_id,
        reasons=decision.reasons,
    )
    _count_spending(requested_by_id, gate, amount + fee)
    publish(
        TransferInReview(
            review_id=str(review.pk),
            source_wallet_id=str(wallet.pk),
            destination_wallet_id=str(target.pk),
            sender_id=requested_by_id,
            amount=amount.amount,
            currency=amount.currency,
            reasons=decision.reasons,
        )
    )
    return selectors.transfer_review_data(review)


@transaction.atomic
def transfer_review_decide(*, review_id: UUID, staff_id: int, approve: bool, note: str = "") -> str:
    """Staff's decision on a held transfer. Approve: the hold is released and the transfer
    posts under its own business key, in this transaction (exactly once; a refusal, e.g. a
    frozen wallet, leaves the hold in place). Decline: the hold is voided, the money is
    available again. Neither party to the transfer may decide it. Returns the new state."""
    review = (
        TransferReview.objects.select_for_update()
        .select_related("source_wallet", "destination_wallet")
        .get(pk=review_id)
    )
    parties = {
        review.requested_by_id,
        review.source_wallet.owner_id,
        review.destination_wallet.owner_id,
    }
    if staff_id in parties:
        raise DeciderIsParty()
    if review.state != TransferReview.State.PENDING:
        raise ReviewAlreadyDecided(state=review.state)
    amount, fee = Money(review.amount, review.currency), Money(review.fee, review.currency)
    if approve:
        review.transfer = _review_post(review, amount, fee, staff_id)
        review.state = TransferReview.State.APPROVED
        publish(
            TransferReviewApproved(
                review_id=str(review.pk),
                transfer_id=str(review.transfer.pk),
                sender_id=review.requested_by_id,
                decided_by_id=staff_id,
            )
        )
    else:
        # The gate before the ledger's locks, the order transfer_create takes them in.
        spend_release(
            user_id=review.requested_by_id, amount=amount + fee, counted_on=review.created_at
        )
        ledger_services.hold_void(hold_id=review.hold_id)
        review.state = TransferReview.State.DECLINED
        publish(
            TransferReviewDeclined(
                review_id=str(review.pk), sender_id=review.requested_by_id, decided_by_id=staff_id
            )
        )
    review.decided_by_id, review.decided_at = staff_id, timezone.now()
    review.decision_note = note[:300]
    review.save()
    return str(review.state)


def _review_post(review: TransferReview, amount: Money, fee: Money, staff_id: int) -> Transfer:
    """The approved transfer: the same legs, ceiling and fee as one that passed at once."""
    wallet, target = review.source_wallet, review.destination_wallet
    ledger_services.hold_void(hold_id=review.hold_id)
    recipient_max = kyc_selectors.limits_for(
        user_id=target.owner_id, currency=amount.currency
    ).max_balance
    legs = [
        ledger_services.Leg(wallet.ledger_account_id, "D", amount + fee),
        ledger_services.Leg(target.ledger_account_id, "C", amount, recipient_max.amount),
    ]
    if fee.amount:
        legs.append(
            ledger_services.Leg(
                ledger_selectors.system_account_id(purpose="fees_income", currency=fee.currency),
                "C",
                fee,
            )
        )
    try:
        posting = ledger_services.transaction_post(
            legs=legs,
            idempotency_key=review.ledger_key,
            kind="p2p",
            description=review.note,
            created_by=f"staff:{staff_id}",
            metadata={
                "note": review.note,
                "source_wallet": str(wallet.pk),
                "destination_wallet": str(target.pk),
                "review": str(review.pk),
            },
            savepoint=False,  # any refusal ends this transaction, the hold stays
        )
    except ledger_services.AccountFrozen as error:
        raise WalletFrozen() from error
    except ledger_services.AccountClosed as error:
        raise WalletClosed() from error
    except ledger_services.BalanceCeilingExceeded as error:
        raise LimitExceeded(
            limit="recipient_max_balance", requested=amount.amount, currency=amount.currency
        ) from error
    transfer = Transfer.objects.create(
        source_wallet_id=wallet.pk,
        destination_wallet_id=target.pk,
        amount=amount.amount,
        fee=fee.amount,
        currency=amount.currency,
        note=review.note,
        requested_by_id=review.requested_by_id,
        ledger_transaction_id=posting.transaction_id,
    )
    publish(
        TransferCompleted(
            transfer_id=str(transfer.pk),
            source_wallet_id=str(wallet.pk),
            destination_wallet_id=str(target.pk),
            sender_id=review.requested_by_id,
            recipient_id=target.owner_id,
            amount=amount.amount,
            fee=fee.amount,
            currency=amount.currency,
            note=transfer.note,
        )
    )
    return transfer


def owner_wallets_close(user_id: int) -> None:
    """Close every wallet a user owns, refused while one holds money (account closure runs this
    in its transaction). Closing first takes the ledger's shard locks, so no posting can land
    between the balance check and the closure."""
    for wallet in Wallet.objects.filter(owner_id=user_id).order_by("pk"):
        wallet_set_status(
            wallet_id=wallet.pk,
            status=WalletStatus.CLOSED,
            reason="account closed",
            changed_by_id=user_id,
        )
        balance = ledger_selectors.account_balance(account_id=wallet.ledger_account_id)
        if balance.posted.amount or balance.pending.amount:
            raise accounts_services.AccountNotEmpty(
                wallet_id=str(wallet.pk),
                currency=wallet.currency,
                posted=balance.posted.amount,
                pending=balance.pending.amount,
            )


# --- shared-wallet members -------------------------------------------------------------


def _shared_wallet_for_update(wallet_id: UUID, user_id: int | None) -> tuple[Wallet, str]:
    """The shared wallet, locked (member changes of one wallet go one at a time), and the
    user's role on it; None as user: staff, who see every wallet."""
    wallet = Wallet.objects.select_for_update().filter(pk=wallet_id).first()
    if wallet is None:
        raise WalletNotFound()
    role = "staff"
    if user_id is not None:
        role = selectors.visible_wallet(wallet_id=wallet_id, user_id=user_id).role
    if not wallet.is_shared:
        raise WalletNotShared()
    return wallet, role


def _limit_of(wallet: Wallet, daily_limit: Money | None) -> int | None:
    if daily_limit is None:
        return None
    if daily_limit.currency != wallet.currency:
        raise CurrencyMismatch(wallet_currency=wallet.currency, currency=daily_limit.currency)
    return daily_limit.amount


def _invitee_of(contact: str) -> int | None:
    user = (
        accounts_selectors.user_find_by_phone(phone=contact)
        if contact.startswith("+")
        else accounts_selectors.user_find_by_email(email=contact)
    )
    return user.id if user is not None and user.is_active else None


@transaction.atomic
def wallet_invitation_create(
    *,
    wallet_id: UUID,
    owner_id: int,
    contact: str,
    role: str = MemberRole.SPENDER,
    daily_limit: Money | None = None,
) -> dict[str, Any]:
    """Invite someone by e-mail or verified phone (+E.164). Known or not, the owner gets the
    same answer; only a customer with that contact is told. Inviting the same contact again
    while an invitation is pending answers that invitation."""
    wallet, role_of_caller = _shared_wallet_for_update(wallet_id, owner_id)
    if role_of_caller != "owner":
        raise NotWalletOwner()
    if wallet.status == WalletStatus.CLOSED:
        raise WalletClosed()
    limit = _limit_of(wallet, daily_limit)
    contact = contact.strip() if contact.startswith("+") else contact.strip().lower()
    invitee_id = _invitee_of(contact)
    if invitee_id == owner_id:
        raise AlreadyMember("You own this wallet.")
    if invitee_id and WalletMember.objects.filter(wallet=wallet, user_id=invitee_id).exists():
        raise AlreadyMember()
    pending = WalletInvitation.objects.filter(
        wallet=wallet, contact=contact, state=WalletInvitation.State.PENDING
    ).first()
    if pending is not None:
        return selectors.invitation_data(pending)
    invitation = WalletInvitation.objects.create(
        wallet=wallet,
        invited_by_id=owner_id,
        contact=contact,
        invitee_id=invitee_id,
        role=role,
        daily_limit=limit,
    )
    if invitee_id is not None:
        publish(
            WalletMemberInvited(
                invitation_id=str(invitation.pk),
                wallet_id=str(wallet.pk),
                wallet_name=wallet.name,
                owner_id=owner_id,
                invitee_id=invitee_id,
                role=role,
            )
        )
    return selectors.invitation_data(invitation)


@transaction.atomic
def wallet_invitation_answer(*, invitation_id: UUID, user_id: int, accept: bool) -> dict[str, Any]:
    """The invitee accepts (becomes a member with the invited role and limit) or declines.
    Giving the same answer again changes nothing; the other answer is refused."""
    wallet_id = (
        WalletInvitation.objects.filter(pk=invitation_id, invitee_id=user_id)
        .values_list("wallet_id", flat=True)
        .first()
    )
    if wallet_id is None:
        raise InvitationNotFound()
    wallet = Wallet.objects.select_for_update().get(pk=wallet_id)  # the wallet, then its rows
    invitation = WalletInvitation.objects.select_for_update().get(pk=invitation_id)
    wanted = WalletInvitation.State.ACCEPTED if accept else WalletInvitation.State.DECLINED
    if invitation.state == wanted:
        return selectors.invitation_data(invitation)
    if invitation.state != WalletInvitation.State.PENDING:
        raise InvitationNotPending(state=invitation.state)
    if accept:
        if wallet.status == WalletStatus.CLOSED:
            raise WalletClosed()
        member, created = WalletMember.objects.get_or_create(
            wallet=wallet,
            user_id=user_id,
            defaults={"role": invitation.role, "daily_limit": invitation.daily_limit},
        )
        if created:
            _member_trail(member, WalletMemberChange.Action.JOINED, user_id, "")
    invitation.state, invitation.decided_at = wanted, timezone.now()
    invitation.save(update_fields=["state", "decided_at"])
    publish(
        WalletInvitationAnswered(
            invitation_id=str(invitation.pk),
            wallet_id=str(wallet.pk),
            wallet_name=wallet.name,
            owner_id=wallet.owner_id,
            invitee_id=user_id,
            accepted=accept,
        )
    )
    return selectors.invitation_data(invitation)


def _member_trail(member: WalletMember, action: str, changed_by_id: int, reason: str) -> None:
    WalletMemberChange.objects.create(
        wallet_id=member.wallet_id,
        user_id=member.user_id,
        action=action,
        role="" if action in ("removed", "left") else member.role,
        daily_limit=None if action in ("removed", "left") else member.daily_limit,
        reason=reason,
        changed_by_id=changed_by_id,
    )


def _staff_reason(by_staff: bool, reason: str) -> None:
    if by_staff and not reason.strip():
        raise ValidationError({"reason": ["A reason is required."]})


_UNCHANGED: Any = object()


@transaction.atomic
def wallet_member_update(
    *,
    wallet_id: UUID,
    member_id: UUID,
    changed_by_id: int,
    role: str | None = None,
    daily_limit: Money | None = _UNCHANGED,
    by_staff: bool = False,
    reason: str = "",
) -> dict[str, Any]:
    """The owner (or staff, with a reason) changes a member's role or daily limit
    (`daily_limit=None`: only the tier's limits apply)."""
    _staff_reason(by_staff, reason)
    wallet, role_of_caller = _shared_wallet_for_update(
        wallet_id, None if by_staff else changed_by_id
    )
    if role_of_caller not in ("owner", "staff"):
        raise NotWalletOwner()
    member = WalletMember.objects.filter(public_id=member_id, wallet=wallet).first()
    if member is None:
        raise MemberNotFound()
    if role is not None:
        member.role = role
    if daily_limit is not _UNCHANGED:
        member.daily_limit = _limit_of(wallet, daily_limit)
    member.full_clean()
    member.save(update_fields=["role", "daily_limit"])
    _member_trail(member, WalletMemberChange.Action.CHANGED, changed_by_id, reason)
    publish(
        WalletMemberChanged(
            wallet_id=str(wallet.pk),
            wallet_name=wallet.name,
            owner_id=wallet.owner_id,
            user_id=member.user_id,
            role=member.role,
            daily_limit=member.daily_limit,
            currency=wallet.currency,
            by_staff=by_staff,
        )
    )
    return selectors.member_data(member, wallet=wallet, viewer_id=wallet.owner_id)


@transaction.atomic
def wallet_member_remove(
    *,
    wallet_id: UUID,
    member_id: UUID,
    changed_by_id: int,
    by_staff: bool = False,
    reason: str = "",
) -> None:
    """The owner (or staff, with a reason) removes a member, or a member leaves (their own
    row). What they sent stays in the wallet's history."""
    _staff_reason(by_staff, reason)
    wallet, role_of_caller = _shared_wallet_for_update(
        wallet_id, None if by_staff else changed_by_id
    )
    member = WalletMember.objects.filter(public_id=member_id, wallet=wallet).first()
    if member is None:
        raise MemberNotFound()
    left = member.user_id == changed_by_id and not by_staff
    if role_of_caller not in ("owner", "staff") and not left:
        raise NotWalletOwner()
    action = WalletMemberChange.Action.LEFT if left else WalletMemberChange.Action.REMOVED
    _member_trail(member, action, changed_by_id, reason)
    member.delete()
    publish(
        WalletMemberRemoved(
            wallet_id=str(wallet.pk),
            wallet_name=wallet.name,
            owner_id=wallet.owner_id,
            user_id=member.user_id,
            left=left,
            by_staff=by_staff,
        )
    )


# --- money requests ---------------------------------------------------------------------


def _request_closed(request: MoneyRequest) -> None:
    publish(
        MoneyRequestClosed(
            request_id=str(request.pk),
            requester_id=request.requester_id,
            payer_id=request.payer_id,
            amount=request.amount,
            currency=request.currency,
            state=request.state,
        )
    )


@transaction.atomic
def money_request_create(
    *,
    requester_id: int,
    contact: str,
    amount: Money,
    note: str = "",
    wallet_id: UUID | None = None,
) -> dict[str, Any]:
    """Ask the customer with that e-mail or verified phone for `amount`, paid into the
    requester's wallet (their personal one in the currency unless named). Known or not, the
    requester gets the same answer; only a customer with the contact is told."""
    if wallet_id is None:
        wallet_id = (
            Wallet.objects.filter(owner_id=requester_id, currency=amount.currency, is_shared=False)
            .values_list("pk", flat=True)
            .first()
        )
        if wallet_id is None:
            raise WalletNotFound(f"You have no {amount.currency} wallet to be paid into.")
    _owned_open_wallet(wallet_id, requester_id, amount)
    contact = contact.strip() if contact.startswith("+") else contact.strip().lower()
    payer_id = _invitee_of(contact)
    if payer_id == requester_id:
        raise SelfRequest()
    request = MoneyRequest.objects.create(
        requester_id=requester_id,
        destination_wallet_id=wallet_id,
        contact=contact,
        payer_id=payer_id,
        amount=amount.amount,
        currency=amount.currency,
        note=note[:200],
        expires_at=timezone.now() + timedelta(days=settings.WALLETS_MONEY_REQUEST_DAYS),
    )
    if payer_id is not None:
        publish(
            MoneyRequested(
                request_id=str(request.pk),
                requester_id=requester_id,
                payer_id=payer_id,
                amount=amount.amount,
                currency=amount.currency,
                note=request.note,
            )
        )
    return selectors.money_request_data(request, viewer_id=requester_id)


def _request_for_update(request_id: UUID, user_id: int, as_payer: bool) -> MoneyRequest:
    party = {"payer_id": user_id} if as_payer else {"requester_id": user_id}
    request = MoneyRequest.objects.select_for_update().filter(pk=request_id, **party).first()
    if request is None:
        raise MoneyRequestNotFound()
    return request


def _ensure_pending(request: MoneyRequest) -> None:
    if request.state == MoneyRequest.State.PENDING and request.expires_at <= timezone.now():
        raise MoneyRequestNotPending(state=MoneyRequest.State.EXPIRED)
    if request.state != MoneyRequest.State.PENDING:
        raise MoneyRequestNotPending(state=request.state)


@transaction.atomic
def money_request_accept(
    *, request_id: UUID, payer_id: int, source_wallet_id: UUID | None = None
) -> dict[str, Any]:
    """The payer pays the request with an ordinary P2P transfer (all of its rules: limits,
    risk, wallet states; its refusals come back as they are and nothing moves). The transfer's
    business key is the request's, so accepting again pays nothing more and answers the same.

    Lock order: the request, then the transfer's (the payer's spending gate, the ledger)."""
    request = _request_for_update(request_id, payer_id, as_payer=True)
    if request.state == MoneyRequest.State.ACCEPTED:
        return selectors.money_request_data(request, viewer_id=payer_id)
    _ensure_pending(request)
    if source_wallet_id is None:
        source_wallet_id = (
            Wallet.objects.filter(owner_id=payer_id, currency=request.currency, is_shared=False)
            .values_list("pk", flat=True)
            .first()
        )
        if source_wallet_id is None:
            raise WalletNotFound(f"You have no {request.currency} wallet to pay from.")
    transfer = transfer_create(
        source_wallet_id=source_wallet_id,
        destination=str(request.destination_wallet_id),
        amount=Money(request.amount, request.currency),
        requested_by_id=payer_id,
        idempotency_key=f"money-request:{request.pk}",
        note=request.note,
    )
    request.state, request.decided_at = MoneyRequest.State.ACCEPTED, timezone.now()
    request.transfer_id = transfer.id
    request.save(update_fields=["state", "decided_at", "transfer_id"])
    _request_closed(request)
    return selectors.money_request_data(request, viewer_id=payer_id, transfer=transfer)


@transaction.atomic
def money_request_decline(*, request_id: UUID, payer_id: int) -> dict[str, Any]:
    return _money_request_end(request_id, payer_id, True, MoneyRequest.State.DECLINED)


@transaction.atomic
def money_request_cancel(*, request_id: UUID, requester_id: int) -> dict[str, Any]:
    return _money_request_end(request_id, requester_id, False, MoneyRequest.State.CANCELLED)


def _money_request_end(
    request_id: UUID, user_id: int, as_payer: bool, state: str
) -> dict[str, Any]:
    """Decline (payer) or cancel (requester); the same answer again changes nothing."""
    request = _request_for_update(request_id, user_id, as_payer)
    if request.state == state:
        return selectors.money_request_data(request, viewer_id=user_id)
    _ensure_pending(request)
    request.state, request.decided_at = state, timezone.now()
    request.save(update_fields=["state", "decided_at"])
    _request_closed(request)
    return selectors.money_request_data(request, viewer_id=user_id)


MONEY_REQUESTS_EXPIRE_JOB = "wallets.money_requests_expire"


@transaction.atomic
def money_request_expire(*, request_id: UUID) -> bool:
    """Expire one request if it is still pending and due; False if it was not."""
    request = MoneyRequest.objects.select_for_update().get(pk=request_id)
    if request.state != MoneyRequest.State.PENDING or request.expires_at > timezone.now():
        return False
    request.state, request.decided_at = MoneyRequest.State.EXPIRED, timezone.now()
    request.save(update_fields=["state", "decided_at"])
    _request_closed(request)
    return True


def money_requests_expire(*, limit: int = 500) -> int:
    """Expire pending requests past their date (the beat job); returns how many. One that
    fails is kept for people (apps.core.batch), not the rest."""
    due = list(
        MoneyRequest.objects.filter(
            state=MoneyRequest.State.PENDING, expires_at__lte=timezone.now()
        )
        .exclude(pk__in=batch.resting(MONEY_REQUESTS_EXPIRE_JOB))
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = batch.each(
        MONEY_REQUESTS_EXPIRE_JOB,
        due,
        lambda request_id: money_request_expire(request_id=request_id),
    )
    return sum(done.results)
