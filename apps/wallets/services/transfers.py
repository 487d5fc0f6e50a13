"""P2P transfers: one statement locks the gate and reads both wallets, one posts."""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.events import dispatch_after_commit, outbox_row, publish
from apps.core.money import Money
from apps.core.risk import DENY, REVIEW, Decision, amount_assess
from apps.kyc import selectors as kyc_selectors
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.wallets import selectors
from apps.wallets.errors import (
    CurrencyMismatch,
    LimitExceeded,
    NotAllowedToSend,
    RecipientNotFound,
    RiskDenied,
    SelfTransfer,
    WalletClosed,
    WalletFrozen,
    WalletNotFound,
)
from apps.wallets.events import TransferCompleted, TransferInReview
from apps.wallets.models import Transfer, TransferReview, Wallet, WalletStatus
from apps.wallets.selectors import TransferView
from apps.wallets.services.limits import (
    _check_limits,
    _count_spending,
    _counted,
    _Gate,
    _lock_gate_and_load,
    _recipient_wallet_id,
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
    posting = _p2p_post(
        wallet,
        target,
        amount,
        fee,
        recipient_max,
        ledger_key=ledger_key,
        note=note[:200],
        created_by=f"user:{requested_by_id}",
    )
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
    event = _completed(transfer, recipient_id=target.owner_id)
    _count_and_record(transfer, gate, outbox_row(event))
    return selectors.transfer_data(transfer)


def _p2p_post(
    wallet: Wallet,
    target: Wallet,
    amount: Money,
    fee: Money,
    recipient_max: Money,
    *,
    ledger_key: str,
    note: str,
    created_by: str,
    metadata: dict[str, str] | None = None,
) -> ledger_services.PostingResult:
    """A transfer's ledger posting, whether it passed at once or a reviewer approved it:
    the sender pays amount and fee, the recipient gets the amount up to their tier's
    maximum balance, the fee goes to fee income."""
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
        return ledger_services.transaction_post(
            legs=legs,
            idempotency_key=ledger_key,
            kind="p2p",
            description=note,
            created_by=created_by,
            metadata={
                "note": note,
                "source_wallet": str(wallet.pk),
                "destination_wallet": str(target.pk),
                **(metadata or {}),
            },
            savepoint=False,  # any refusal ends the caller's transaction
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


def _completed(transfer: Transfer, *, recipient_id: int) -> TransferCompleted:
    return TransferCompleted(
        transfer_id=str(transfer.pk),
        source_wallet_id=str(transfer.source_wallet_id),
        destination_wallet_id=str(transfer.destination_wallet_id),
        sender_id=transfer.requested_by_id,
        recipient_id=recipient_id,
        amount=transfer.amount,
        fee=transfer.fee,
        currency=transfer.currency,
        note=transfer.note,
    )


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
