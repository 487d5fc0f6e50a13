"""Events the ledger publishes: postings and holds are written into the outbox by its SQL
functions, a maker-checker reversal by services.py through publish()."""

from dataclasses import dataclass
from typing import Any

from apps.core.events import Event


@dataclass(frozen=True)
class TransactionPosted(Event):
    name = "ledger.transaction_posted"
    transaction_id: str
    kind: str
    legs: list[dict[str, Any]]  # account_id, shard, direction "D"/"C", amount, currency
    reverses: str | None
    effective_at: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class HoldCreated(Event):
    name = "ledger.hold_created"
    hold_id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    currency: str
    expires_at: str | None
    kind: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class HoldPosted(Event):
    name = "ledger.hold_posted"
    hold_id: str
    transaction_id: str
    amount: int
    currency: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class HoldVoided(Event):
    name = "ledger.hold_voided"
    hold_id: str
    status: str  # "voided" or "expired"
    amount: int
    currency: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class TransactionReversed(Event):
    """A staff reversal was approved and posted (maker-checker); the mirror posting itself is
    announced as ledger.transaction_posted with `reverses` set."""

    name = "ledger.transaction_reversed"
    reversal_id: str
    transaction_id: str  # the transaction undone
    reversal_transaction_id: str  # the mirror posting
    account_ids: list[str]  # every account the reversal moved money on
    proposed_by_id: int
    approved_by_id: int
