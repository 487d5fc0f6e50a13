"""Public writes of the ledger. Every money movement is posted here, by one call into the
PostgreSQL functions of migration 0002 (one round trip: idempotency, locks in one global order,
rules, entries with running balances and hash chain, stored balances, outbox event)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from apps.core import batch, context, db
from apps.core.events import dispatch_after_commit, publish
from apps.core.money import Money
from apps.ledger import chart, selectors
from apps.ledger.errors import (  # re-exported: other apps catch them from here
    BY_CODE,
    AccountClosed,
    AccountFrozen,
    AdjustmentNotProposed,
    AlreadyReversed,
    BalanceCeilingExceeded,
    BalanceRuleViolated,
    CurrencyMismatch,
    CurrencyNotSupported,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidAmount,
    LedgerError,
    ReasonRequired,
    ReversalNotFound,
    ReversalNotProposed,
    ReversalOfReversal,
    ReversalPending,
    ReversalRefused,
    SameApprover,
    TransactionNotFound,
    UnbalancedTransaction,
)
from apps.ledger.events import TransactionReversed
from apps.ledger.models import (
    REVERSAL_ONCE,
    REVERSED_ONCE,
    Account,
    AccountStatus,
    Adjustment,
    AdjustmentStatus,
    Balance,
    BalanceRule,
    Currency,
    Entry,
    Hold,
    HoldStatus,
    Reversal,
    ReversalStatus,
    Transaction,
)
from apps.ledger.verification import (
    VerificationResult,
    checkpoint_seal,
    checkpoints_seal_due,
    verify,
)

__all__ = [
    "AccountClosed",
    "AccountFrozen",
    "BalanceCeilingExceeded",
    "CurrencyNotSupported",
    "IdempotencyKeyReused",
    "InsufficientFunds",
    "Leg",
    "PostingResult",
    "HoldResult",
    "LedgerError",
    "VerificationResult",
    "account_create",
    "account_set_status",
    "transfer_post",
    "transaction_post",
    "transaction_reverse",
    "hold_create",
    "hold_post",
    "hold_void",
    "holds_expire",
    "adjustment_propose",
    "adjustment_approve",
    "adjustment_reject",
    "reversal_check",
    "reversal_legs",
    "reversal_propose",
    "reversal_approve",
    "reversal_reject",
    "AlreadyReversed",
    "ReasonRequired",
    "ReversalNotFound",
    "ReversalNotProposed",
    "ReversalOfReversal",
    "ReversalPending",
    "ReversalRefused",
    "SameApprover",
    "TransactionNotFound",
    "chart_ensure",
    "currency_enable",
    "currency_disable",
    "checkpoint_seal",
    "checkpoints_seal_due",
    "verify",
    "external_account_open",
    "external_post",
    "external_reverse",
    "external_hold_create",
    "external_hold_post",
    "external_hold_void",
]


@dataclass(frozen=True)
class Leg:
    """One side of a posting. `ceiling`: the account's posted credits - debits must not end
    above it after a posting that raises them (a wallet's maximum balance): checked under the
    account's lock, refused with BalanceCeilingExceeded. Per shard, so meant for unsharded
    accounts (wallets). Not part of the posting's content: a retry under a changed ceiling is
    the same posting."""

    account_id: UUID
    direction: Literal["D", "C"]
    amount: Money
    ceiling: int | None = None


@dataclass(frozen=True)
class PostingResult:
    transaction_id: UUID
    replayed: bool


@dataclass(frozen=True)
class HoldResult:
    hold_id: UUID
    replayed: bool


_FUNCTIONS = {
    "post": "SELECT ledger_post(%s::jsonb)",
    "hold_create": "SELECT ledger_hold_create(%s::jsonb)",
    "hold_post": "SELECT ledger_hold_post(%s::jsonb)",
    "hold_void": "SELECT ledger_hold_void(%s::jsonb)",
}


def _error_from(exc: DatabaseError) -> Exception:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    diag = getattr(cause, "diag", None)
    if sqlstate == "FS000" and diag is not None:
        error = BY_CODE.get(diag.message_primary or "")
        if error is not None:
            return error(**json.loads(diag.message_detail or "{}"))
    if sqlstate == "23505" and getattr(diag, "constraint_name", None) == REVERSED_ONCE:
        return AlreadyReversed()  # lost a race with a reversal under another key
    return exc


def _call(function: str, payload: dict[str, Any], savepoint: bool = True) -> dict[str, Any]:
    request_id = context.request_id.get()
    if request_id != "-":  # absent: the SQL writes ''
        payload["request_id"] = request_id
    # Looked up once for the call, the statement and the events (each lookup through
    # `django.db.connection` goes through a thread-and-task local).
    conn = connections[DEFAULT_DB_ALIAS]
    # Inside a caller's transaction a refusal must not poison it: use a savepoint, unless the
    # caller's transaction ends on any refusal anyway. Outside, the single statement is its
    # own transaction (no BEGIN/COMMIT round trips).
    scope = transaction.atomic() if savepoint and conn.in_atomic_block else nullcontext()
    try:
        with scope:
            result: dict[str, Any] = json.loads(
                db.scalar(_FUNCTIONS[function], json.dumps(payload), conn)
            )
    except DatabaseError as exc:
        raise _error_from(exc) from exc
    for event in result["events"]:
        dispatch_after_commit(event["id"], event["type"], conn)
    return result


def _wire_leg(account_id: UUID, direction: str, amount: Money) -> dict[str, Any]:
    """A leg as ledger_post() reads it."""
    return {
        "account": str(account_id),
        "direction": direction,
        "amount": amount.amount,
        "currency": amount.currency,
    }


def _post(
    wire: list[dict[str, Any]],
    idempotency_key: str,
    kind: str,
    description: str,
    metadata: dict[str, Any] | None,
    effective_at: datetime | None,
    created_by: str,
    savepoint: bool,
) -> PostingResult:
    # Defaults are left out: the SQL reads an absent description, metadata, time or author
    # as '', {}, now() and '', and a retry compares them so too.
    payload: dict[str, Any] = {"key": idempotency_key, "kind": kind, "legs": wire}
    if description:
        payload["description"] = description
    if metadata:
        payload["metadata"] = metadata
    if effective_at is not None:
        payload["effective_at"] = effective_at.isoformat()
    if created_by:
        payload["by"] = created_by
    result = _call("post", payload, savepoint=savepoint)
    return PostingResult(UUID(result["transaction_id"]), result["replayed"])


def transaction_post(
    *,
    legs: Sequence[Leg],
    idempotency_key: str,
    kind: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
    effective_at: datetime | None = None,
    created_by: str = "",
    savepoint: bool = True,
) -> PostingResult:
    """Post a balanced transaction of two or more legs, exactly once per idempotency key.

    `savepoint=False`: the caller's own transaction rolls back on any refusal, so the
    savepoint that lets a caller carry on after one is two wasted round trips."""
    if len(legs) < 2:
        raise UnbalancedTransaction(reason="fewer than two entries")
    if any(leg.amount.amount <= 0 for leg in legs):
        raise InvalidAmount(reason="amounts must be positive")
    totals: dict[str, int] = {}
    for leg in legs:
        sign = 1 if leg.direction == "D" else -1
        totals[leg.amount.currency] = totals.get(leg.amount.currency, 0) + sign * leg.amount.amount
    if any(totals.values()):
        raise UnbalancedTransaction(reason="debits differ from credits")
    wire = []
    for leg in legs:
        sent = _wire_leg(leg.account_id, leg.direction, leg.amount)
        if leg.ceiling is not None:
            sent["ceiling"] = leg.ceiling
        wire.append(sent)
    return _post(
        wire, idempotency_key, kind, description, metadata, effective_at, created_by, savepoint
    )


def transfer_post(
    *,
    debit_account_id: UUID,
    credit_account_id: UUID,
    amount: Money,
    idempotency_key: str,
    kind: str = "transfer",
    description: str = "",
    metadata: dict[str, Any] | None = None,
    created_by: str = "",
) -> PostingResult:
    """Move `amount` from one account to another (debit one, credit the other)."""
    if amount.amount <= 0:
        raise InvalidAmount(reason="amounts must be positive")
    # Balanced by construction: its two legs go straight to the wire.
    wire = [_wire_leg(debit_account_id, "D", amount), _wire_leg(credit_account_id, "C", amount)]
    return _post(wire, idempotency_key, kind, description, metadata, None, created_by, True)


def transaction_reverse(
    *,
    transaction_id: UUID,
    idempotency_key: str,
    reason: str,
    created_by: str = "",
    metadata: dict[str, Any] | None = None,
) -> PostingResult:
    """Post the mirror image of a transaction, linked to it; at most once (a DB constraint)."""
    entries = list(
        Entry.objects.filter(transaction_id=transaction_id)
        .order_by("id")
        .values_list("account_id", "shard", "direction", "amount", "currency")
    )
    if not entries:
        raise TransactionNotFound()
    wire = [
        {
            "account": str(account),
            "shard": shard,
            "direction": "C" if direction == "D" else "D",
            "amount": amount,
            "currency": currency,
        }
        for account, shard, direction, amount, currency in entries
    ]
    result = _call(
        "post",
        {
            "key": idempotency_key,
            "kind": "reversal",
            "description": reason,
            "metadata": metadata or {},
            "reverses": str(transaction_id),
            "by": created_by,
            "legs": wire,
        },
    )
    return PostingResult(UUID(result["transaction_id"]), result["replayed"])


def hold_create(
    *,
    debit_account_id: UUID,
    credit_account_id: UUID,
    amount: Money,
    idempotency_key: str,
    expires_at: datetime | None = None,
    kind: str = "hold",
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> HoldResult:
    """Reserve `amount` (a pending transfer): available drops now, posted does not."""
    if amount.amount <= 0:
        raise InvalidAmount(reason="amounts must be positive")
    content = {
        "key": idempotency_key,
        "debit": str(debit_account_id),
        "credit": str(credit_account_id),
        "amount": amount.amount,
        "currency": amount.currency,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "kind": kind,
        "description": description,
        "metadata": metadata or {},
    }
    result = _call("hold_create", content)
    return HoldResult(UUID(result["hold_id"]), result["replayed"])


def hold_post(*, hold_id: UUID, amount: Money | None = None, created_by: str = "") -> PostingResult:
    """Settle a hold for its amount or less, exactly once; a voided or expired hold cannot."""
    if amount is not None:
        currency = Hold.objects.filter(pk=hold_id).values_list("currency", flat=True).first()
        if currency is not None and currency != amount.currency:
            raise CurrencyMismatch(currency=amount.currency, hold_currency=currency)
    result = _call(
        "hold_post",
        {
            "hold": str(hold_id),
            "amount": amount.amount if amount else None,
            "key": f"hold:{hold_id}:post",
            "by": created_by,
        },
    )
    return PostingResult(UUID(result["transaction_id"]), result["replayed"])


def hold_void(*, hold_id: UUID) -> str:
    """Release a hold; idempotent. Returns the hold's final status."""
    return str(_call("hold_void", {"hold": str(hold_id), "expire": False})["status"])


def holds_expire(*, limit: int = 500) -> int:
    """Void holds past their expiry (reads already ignore them); returns how many. One hold
    the database refuses to void is left for people (apps.core.batch), not the rest."""
    due = list(
        Hold.objects.filter(status=HoldStatus.PENDING, expires_at__lte=timezone.now())
        .exclude(pk__in=batch.resting(HOLDS_EXPIRE_JOB))
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = batch.each(
        HOLDS_EXPIRE_JOB,
        due,
        lambda hold_id: _call("hold_void", {"hold": str(hold_id), "expire": True}),
    )
    return sum(r["status"] == HoldStatus.EXPIRED and not r["replayed"] for r in done.results)


HOLDS_EXPIRE_JOB = "ledger.holds_expire"


@transaction.atomic
def account_create(
    *,
    code: str,
    name: str,
    type: str,
    currency: str,
    owner_type: str = "system",
    owner_id: str = "",
    rule: str = BalanceRule.NONE,
    shards: int = 1,
) -> UUID:
    """Open an account with its balance shards; idempotent by code."""
    Money(0, currency)  # rejects unknown currencies
    account, created = Account.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "type": type,
            "currency": currency,
            "owner_type": owner_type,
            "owner_id": owner_id,
            "rule": rule,
            "shards": shards,
        },
    )
    if not created and (account.currency, account.type, account.rule) != (currency, type, rule):
        raise CurrencyMismatch("An account with this code exists with other terms.", code=code)
    if created:
        account.full_clean()
        Balance.objects.bulk_create([Balance(account=account, shard=s) for s in range(shards)])
    return account.pk


@transaction.atomic
def account_set_status(*, account_id: UUID, status: str) -> None:
    """Freeze, unfreeze or close; takes the shard locks so no posting straddles the change."""
    list(Balance.objects.select_for_update().filter(account_id=account_id).order_by("shard"))
    if status not in AccountStatus.values:
        raise InvalidAmount(f"Unknown status {status!r}.")
    Account.objects.filter(pk=account_id).update(status=status)


def chart_ensure() -> int:
    """Create missing system accounts for every currency of the Currency table and the
    configured providers. A database without any currency (new, or flushed by a test) starts
    with LEDGER_CURRENCIES."""
    with transaction.atomic():
        if not Currency.objects.exists():
            Currency.objects.bulk_create(
                [Currency(code=code) for code in settings.LEDGER_CURRENCIES],
                ignore_conflicts=True,
            )
        codes = list(Currency.objects.order_by("code").values_list("code", flat=True))
        return chart.ensure(Account, Balance, codes, settings.LEDGER_PROVIDERS)


@transaction.atomic
def currency_enable(*, code: str) -> int:
    """Let customers open wallets and pay in `code`: its system accounts are created in the
    same transaction, so no wallet exists in a currency the ledger cannot book. Idempotent;
    returns how many accounts were new."""
    Money(0, code)  # an ISO 4217 code we know the decimal places of
    currency = Currency.objects.select_for_update().filter(code=code).first() or Currency(code=code)
    created = chart.ensure(Account, Balance, [code], settings.LEDGER_PROVIDERS)
    if currency._state.adding or not currency.enabled:
        currency.enabled = True
        currency.full_clean()
        currency.save()  # through save(): the audit log records who changed it
    return created


@transaction.atomic
def currency_disable(*, code: str) -> None:
    """No new wallets or deposits in `code`; its accounts stay, so money already in it can
    still move and leave (withdrawals)."""
    currency = Currency.objects.select_for_update().filter(code=code).first()
    if currency is None:
        raise CurrencyNotSupported(currency=code)
    if currency.enabled:
        currency.enabled = False
        currency.save(update_fields=["enabled", "updated_at"])


@transaction.atomic
def adjustment_propose(
    *,
    debit_account_id: UUID,
    credit_account_id: UUID,
    amount: Money,
    reason: str,
    proposed_by_id: int,
) -> UUID:
    adjustment = Adjustment(
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount.amount,
        currency=amount.currency,
        reason=reason,
        proposed_by_id=proposed_by_id,
    )
    adjustment.full_clean()
    adjustment.save()
    return adjustment.pk


@transaction.atomic
def adjustment_approve(*, adjustment_id: UUID, approver_id: int) -> PostingResult:
    """The checker's step: a different staff user approves, and the adjustment posts."""
    adjustment = Adjustment.objects.select_for_update().get(pk=adjustment_id)
    if adjustment.status != AdjustmentStatus.PROPOSED:
        raise AdjustmentNotProposed(status=adjustment.status)
    if adjustment.proposed_by_id == approver_id:
        raise SameApprover()
    posting = transfer_post(
        debit_account_id=adjustment.debit_account_id,
        credit_account_id=adjustment.credit_account_id,
        amount=Money(adjustment.amount, adjustment.currency),
        idempotency_key=f"adjustment:{adjustment.pk}",
        kind="adjustment",
        description=adjustment.reason,
        metadata={
            "adjustment_id": str(adjustment.pk),
            "proposed_by": adjustment.proposed_by_id,
            "approved_by": approver_id,
        },
        created_by=f"user:{approver_id}",
    )
    adjustment.status = AdjustmentStatus.POSTED
    adjustment.decided_by_id = approver_id
    adjustment.decided_at = timezone.now()
    adjustment.transaction_id = posting.transaction_id
    adjustment.save(update_fields=["status", "decided_by", "decided_at", "transaction"])
    return posting


@transaction.atomic
def adjustment_reject(*, adjustment_id: UUID, rejected_by_id: int) -> None:
    adjustment = Adjustment.objects.select_for_update().get(pk=adjustment_id)
    if adjustment.status != AdjustmentStatus.PROPOSED:
        raise AdjustmentNotProposed(status=adjustment.status)
    if adjustment.proposed_by_id == rejected_by_id:
        raise SameApprover()
    adjustment.status = AdjustmentStatus.REJECTED
    adjustment.decided_by_id = rejected_by_id
    adjustment.decided_at = timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at"])


# What the ledger refuses because of the accounts' state now, not because of the request: the
# proposal stays open, to be approved once the money is back or rejected.
_UNPOSTABLE = (
    InsufficientFunds,
    AccountFrozen,
    AccountClosed,
    BalanceRuleViolated,
    BalanceCeilingExceeded,
)
_REVERSAL_SAME_PERSON = (
    "A reversal must be approved or rejected by someone other than who proposed it."
)


def reversal_legs(*, transaction_id: UUID) -> list[Leg]:
    """What a reversal of the transaction would post: each of its entries, mirrored."""
    entries = selectors.transaction_get(transaction_id=transaction_id).entries
    return [
        Leg(account, "C" if direction == "D" else "D", amount)
        for account, direction, amount in entries
    ]


def reversal_check(*, transaction_id: UUID) -> None:
    """Refuse, as reversal_propose would, a transaction that cannot be reversed: unknown, itself
    a reversal, already reversed, or with a reversal awaiting a decision."""
    txn = Transaction.objects.filter(pk=transaction_id).values("reverses_id").first()
    if txn is None:
        raise TransactionNotFound(transaction_id=str(transaction_id))
    if txn["reverses_id"] is not None:
        raise ReversalOfReversal(reverses=str(txn["reverses_id"]))
    reversed_by = (
        Transaction.objects.filter(reverses_id=transaction_id).values_list("pk", flat=True).first()
    )
    if reversed_by is not None:
        raise AlreadyReversed(reversal_transaction_id=str(reversed_by))
    pending = (
        Reversal.objects.filter(transaction_id=transaction_id, status=ReversalStatus.PROPOSED)
        .values_list("pk", flat=True)
        .first()
    )
    if pending is not None:
        raise ReversalPending(reversal_id=str(pending))


@transaction.atomic
def reversal_propose(*, transaction_id: UUID, reason: str, proposed_by_id: int) -> UUID:
    """The maker's step: ask for a posted transaction to be undone; nothing moves until a
    different staff user approves."""
    reason = reason.strip()
    if not reason:
        raise ReasonRequired()
    reversal_check(transaction_id=transaction_id)
    reversal = Reversal(transaction_id=transaction_id, reason=reason, proposed_by_id=proposed_by_id)
    reversal.full_clean(validate_constraints=False)  # the constraints are the database's
    try:
        with transaction.atomic():
            reversal.save()
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == REVERSAL_ONCE:
            raise ReversalPending() from exc  # lost a race with another proposal
        raise
    return reversal.pk


def _reversal_for_update(reversal_id: UUID) -> Reversal:
    reversal = Reversal.objects.select_for_update().filter(pk=reversal_id).first()
    if reversal is None:
        raise ReversalNotFound(reversal_id=str(reversal_id))
    if reversal.status != ReversalStatus.PROPOSED:
        raise ReversalNotProposed(status=reversal.status)
    return reversal


@transaction.atomic
def reversal_approve(*, reversal_id: UUID, approver_id: int) -> PostingResult:
    """The checker's step: a different staff user approves and the mirror image posts, once
    (a retry finds the proposal decided, and the posting's key is the proposal's). When the
    ledger refuses it (the money already left a wallet, an account is frozen) nothing is
    posted and the proposal stays open."""
    reversal = _reversal_for_update(reversal_id)
    if reversal.proposed_by_id == approver_id:
        raise SameApprover(_REVERSAL_SAME_PERSON)
    try:
        posting = transaction_reverse(
            transaction_id=reversal.transaction_id,
            idempotency_key=f"reversal:{reversal.pk}",
            reason=reversal.reason,
            created_by=f"user:{approver_id}",
            metadata={
                "reversal_id": str(reversal.pk),
                "proposed_by": reversal.proposed_by_id,
                "approved_by": approver_id,
            },
        )
    except _UNPOSTABLE as exc:
        raise ReversalRefused(
            f"The ledger refused the reversal: {exc.message} Nothing was posted; the proposal"
            " stays open.",
            **{**exc.details, "reason": exc.code},
        ) from exc
    reversal.status = ReversalStatus.POSTED
    reversal.decided_by_id = approver_id
    reversal.decided_at = timezone.now()
    reversal.reversal_transaction_id = posting.transaction_id
    reversal.save(update_fields=["status", "decided_by", "decided_at", "reversal_transaction"])
    accounts = (
        Entry.objects.filter(transaction_id=posting.transaction_id)
        .order_by("account_id")
        .values_list("account_id", flat=True)
        .distinct()
    )
    publish(
        TransactionReversed(
            reversal_id=str(reversal.pk),
            transaction_id=str(reversal.transaction_id),
            reversal_transaction_id=str(posting.transaction_id),
            account_ids=[str(account) for account in accounts],
            proposed_by_id=reversal.proposed_by_id,
            approved_by_id=approver_id,
        )
    )
    return posting


@transaction.atomic
def reversal_reject(*, reversal_id: UUID, rejected_by_id: int) -> None:
    """Close a proposal without posting; the transaction may be proposed for reversal again."""
    reversal = _reversal_for_update(reversal_id)
    if reversal.proposed_by_id == rejected_by_id:
        raise SameApprover(_REVERSAL_SAME_PERSON)
    reversal.status = ReversalStatus.REJECTED
    reversal.decided_by_id = rejected_by_id
    reversal.decided_at = timezone.now()
    reversal.save(update_fields=["status", "decided_by", "decided_at"])


# --- The ledger API's namespaces (see selectors.EXTERNAL) ------------------------------


def external_account_open(
    *, namespace: str, code: str, name: str, type: str, currency: str, rule: str
) -> tuple[UUID, bool]:
    """Open the namespace's account `code`; (id, created). The same code and terms again
    answer the existing account, other terms are refused (CurrencyMismatch)."""
    selectors.currency_check(code=currency, incoming=False)
    full_code = selectors.external_prefix(namespace=namespace) + code
    existed = Account.objects.filter(code=full_code).exists()
    account_id = account_create(
        code=full_code,
        name=name,
        type=type,
        currency=currency,
        owner_type=selectors.EXTERNAL,
        owner_id=namespace,
        rule=rule,
    )
    return account_id, not existed


def external_post(
    *,
    namespace: str,
    everywhere: bool,
    reference: str,
    legs: Sequence[Leg],
    description: str,
    metadata: dict[str, Any],
    created_by: str,
) -> PostingResult:
    """Post for an API caller: every leg on an account it may reach, once per reference."""
    selectors.accounts_reachable_check(
        account_ids=[leg.account_id for leg in legs], namespace=namespace, everywhere=everywhere
    )
    return transaction_post(
        legs=legs,
        idempotency_key=selectors.external_prefix(namespace=namespace) + reference,
        kind="api",
        description=description,
        metadata=metadata,
        created_by=created_by,
    )


def external_reverse(
    *, namespace: str, transaction_id: UUID, reference: str, reason: str, created_by: str
) -> PostingResult:
    """Reverse a transaction the namespace posted itself (never a wallet's or a payment's:
    those have their own reversal procedures)."""
    prefix = selectors.external_prefix(namespace=namespace)
    if not Transaction.objects.filter(
        pk=transaction_id, idempotency_key__startswith=prefix
    ).exists():
        raise TransactionNotFound()
    if not reason.strip():
        raise ReasonRequired()
    return transaction_reverse(
        transaction_id=transaction_id,
        idempotency_key=prefix + reference,
        reason=reason,
        created_by=created_by,
    )


def external_hold_create(
    *,
    namespace: str,
    everywhere: bool,
    reference: str,
    debit_account_id: UUID,
    credit_account_id: UUID,
    amount: Money,
    expires_at: datetime | None,
    description: str,
    metadata: dict[str, Any],
) -> HoldResult:
    selectors.accounts_reachable_check(
        account_ids=[debit_account_id, credit_account_id],
        namespace=namespace,
        everywhere=everywhere,
    )
    return hold_create(
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount,
        idempotency_key=selectors.external_prefix(namespace=namespace) + reference,
        expires_at=expires_at,
        kind="api",
        description=description,
        metadata=metadata,
    )


def external_hold_post(
    *, namespace: str, hold_id: UUID, amount: Money | None, created_by: str
) -> PostingResult:
    selectors.hold_external(hold_id=hold_id, namespace=namespace)  # HoldNotFound if not its own
    return hold_post(hold_id=hold_id, amount=amount, created_by=created_by)


def external_hold_void(*, namespace: str, hold_id: UUID) -> str:
    selectors.hold_external(hold_id=hold_id, namespace=namespace)
    return hold_void(hold_id=hold_id)
