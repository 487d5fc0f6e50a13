"""Public reads of the ledger. Balances are O(1) from the stored shard rows; history comes
from the entries' running balances, never by summing."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from apps.core.money import Money
from apps.ledger.errors import AccountNotFound as AccountNotFound  # other apps catch it here
from apps.ledger.errors import (
    CurrencyNotSupported,
    HoldNotFound,
    TransactionNotFound,
)
from apps.ledger.models import (
    Account,
    AccountType,
    Currency,
    Entry,
    Hold,
    HoldStatus,
    Transaction,
)

# Debit-normal accounts show debits - credits; the others (wallets are liabilities) show
# credits - debits. Stored running balances are always credits - debits.
DEBIT_NORMAL = {AccountType.ASSET, AccountType.EXPENSE}


@dataclass(frozen=True)
class AccountView:
    id: UUID
    code: str
    name: str
    type: str
    currency: str
    status: str
    rule: str
    owner_type: str
    owner_id: str


@dataclass(frozen=True)
class BalanceView:
    posted: Money
    pending: Money  # outgoing holds still open (expired ones never count)
    available: Money


@dataclass(frozen=True)
class HoldView:
    id: UUID
    amount: Money
    status: str
    kind: str
    expires_at: datetime | None
    created_at: datetime
    metadata: dict[str, Any]


@dataclass(frozen=True)
class BalanceExplanation:
    posted: Money
    holds: list[HoldView]
    available: Money


@dataclass(frozen=True)
class EntryView:
    id: int
    transaction_id: UUID
    kind: str
    description: str
    direction: str
    amount: Money
    balance_after: Money  # of the account (its shard, for sharded system accounts)
    posted_at: datetime
    counterparty_account_ids: tuple[UUID, ...]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class EntryPage:
    items: list[EntryView]
    next_cursor: str | None


@dataclass(frozen=True)
class TransactionView:
    id: UUID
    idempotency_key: str
    kind: str
    description: str
    metadata: dict[str, Any]
    effective_at: datetime
    created_at: datetime
    reverses_id: UUID | None
    reversed_by_id: UUID | None
    entries: list[tuple[UUID, str, Money]]  # account, direction, amount


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    type: str
    currency: str
    debits: int
    credits: int


def _sign(account_type: str) -> int:
    return -1 if account_type in DEBIT_NORMAL else 1


def _account(account_id: UUID) -> Account:
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise AccountNotFound()
    return account


def account_view(a: Account) -> AccountView:
    return AccountView(
        a.id, a.code, a.name, a.type, a.currency, a.status, a.rule, a.owner_type, a.owner_id
    )


def account_get(*, account_id: UUID) -> AccountView:
    return account_view(_account(account_id))


def account_id_by_code(*, code: str) -> UUID:
    account_id = Account.objects.filter(code=code).values_list("pk", flat=True).first()
    if account_id is None:
        raise AccountNotFound(code=code)
    return account_id


def system_account_id(*, purpose: str, currency: str, provider: str | None = None) -> UUID:
    """E.g. ("bank_clearing", "EUR", "simulated"), ("fees_income", "EUR")."""
    parts = [purpose, provider, currency] if provider else [purpose, currency]
    return account_id_by_code(code=":".join(parts))


def currency_supported(*, code: str, incoming: bool = True) -> bool:
    """Whether money in `code` can be booked: its system accounts exist. `incoming`: also
    whether customers may bring new money in (open a wallet, deposit): it is enabled."""
    enabled = Currency.objects.filter(code=code).values_list("enabled", flat=True).first()
    return enabled is not None and (enabled or not incoming)


def currency_check(*, code: str, incoming: bool = True) -> None:
    """Refuse, before anything is written, money the ledger could not book (see above)."""
    if not currency_supported(code=code, incoming=incoming):
        raise CurrencyNotSupported(currency=code)


def currency_codes() -> list[str]:
    """Every currency with system accounts, enabled or not."""
    return list(Currency.objects.order_by("code").values_list("code", flat=True))


_BALANCE_SQL = """
    SELECT a.currency, a.type, sum(b.posted_debits), sum(b.posted_credits),
           sum(b.pending_debits), sum(b.pending_credits),
           (SELECT coalesce(sum(h.amount), 0) FROM ledger_hold h
            WHERE h.debit_account_id = a.id AND h.status = 'pending'
              AND h.expires_at <= statement_timestamp())
    FROM ledger_account a JOIN ledger_balance b ON b.account_id = a.id
    WHERE a.id = %s GROUP BY a.id
"""


def account_balance(*, account_id: UUID) -> BalanceView:
    """One query: it sits on every transfer's path (limits, API reads)."""
    with connection.cursor() as cursor:
        cursor.execute(_BALANCE_SQL, [account_id])
        row = cursor.fetchone()
    if row is None:
        raise AccountNotFound()
    currency, account_type, debits, credits, pending_debits, pending_credits, expired = row
    sign = _sign(account_type)
    posted = sign * (credits - debits)
    outgoing = pending_credits if sign < 0 else pending_debits - expired  # expired never count
    return BalanceView(
        Money(int(posted), currency),
        Money(int(outgoing), currency),
        Money(int(posted - outgoing), currency),
    )


def account_balance_as_of(*, account_id: UUID, as_of: datetime) -> Money:
    """Posted balance at a past moment, from each shard's last running balance by then."""
    account = _account(account_id)
    total = 0
    for shard in range(account.shards):
        last = (
            Entry.objects.filter(account_id=account_id, shard=shard, posted_at__lte=as_of)
            .order_by("-posted_at")
            .values_list("balance_after", flat=True)
            .first()
        )
        total += last or 0
    return Money(_sign(account.type) * total, account.currency)


def balance_explain(*, account_id: UUID) -> BalanceExplanation:
    """available = posted - each open hold (amount, expiry, what it is for)."""
    now = timezone.now()
    holds = [
        HoldView(
            h.id,
            Money(h.amount, h.currency),
            h.status,
            h.kind,
            h.expires_at,
            h.created_at,
            h.metadata,
        )
        for h in Hold.objects.filter(debit_account_id=account_id, status=HoldStatus.PENDING)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("created_at")
    ]
    balance = account_balance(account_id=account_id)
    return BalanceExplanation(balance.posted, holds, balance.available)


def _encode_cursor(entry: Entry) -> str:
    return base64.urlsafe_b64encode(f"{entry.posted_at.isoformat()}|{entry.pk}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    posted_at, entry_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    return datetime.fromisoformat(posted_at), int(entry_id)


def entries_page(
    *,
    account_id: UUID,
    cursor: str | None = None,
    limit: int = 50,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: list[str] | None = None,
) -> EntryPage:
    """An account's entries, newest first, with keyset pagination (stable under inserts).
    An invalid cursor raises ValueError."""
    account = _account(account_id)
    entries = Entry.objects.filter(account_id=account_id).select_related("transaction")
    if cursor:
        posted_at, entry_id = _decode_cursor(cursor)
        entries = entries.filter(
            Q(posted_at__lt=posted_at) | Q(posted_at=posted_at, pk__lt=entry_id)
        )
    if since:
        entries = entries.filter(posted_at__gte=since)
    if until:
        entries = entries.filter(posted_at__lt=until)
    if kinds:
        entries = entries.filter(transaction__kind__in=kinds)
    rows = list(entries.order_by("-posted_at", "-pk")[: limit + 1])
    page, more = rows[:limit], len(rows) > limit
    others: dict[UUID, list[UUID]] = {}
    for txn_id, other in (
        Entry.objects.filter(transaction_id__in={e.transaction_id for e in page})
        .exclude(account_id=account_id)
        .values_list("transaction_id", "account_id")
    ):
        others.setdefault(txn_id, []).append(other)
    sign = _sign(account.type)
    items = [
        EntryView(
            e.pk,
            e.transaction_id,
            e.transaction.kind,
            e.transaction.description,
            e.direction,
            Money(e.amount, e.currency),
            Money(sign * e.balance_after, e.currency),
            e.posted_at,
            tuple(dict.fromkeys(others.get(e.transaction_id, []))),
            e.transaction.metadata,
        )
        for e in page
    ]
    return EntryPage(items, _encode_cursor(page[-1]) if more else None)


def transaction_id_by_key(*, idempotency_key: str) -> UUID | None:
    """The transaction posted under a business key, if any."""
    return (
        Transaction.objects.filter(idempotency_key=idempotency_key)
        .values_list("pk", flat=True)
        .first()
    )


def transaction_get(*, transaction_id: UUID) -> TransactionView:
    txn = Transaction.objects.filter(pk=transaction_id).first()
    if txn is None:
        raise TransactionNotFound()
    reversed_by = Transaction.objects.filter(reverses_id=txn.pk).values_list("pk", flat=True)
    entries = [
        (e.account_id, e.direction, Money(e.amount, e.currency)) for e in txn.entries.order_by("pk")
    ]
    return TransactionView(
        txn.id,
        txn.idempotency_key,
        txn.kind,
        txn.description,
        txn.metadata,
        txn.effective_at,
        txn.created_at,
        txn.reverses_id,
        reversed_by.first(),
        entries,
    )


def trial_balance(*, currency: str | None = None) -> list[TrialBalanceRow]:
    """Posted debits and credits per account; per currency the columns are equal."""
    accounts = Account.objects.order_by("currency", "code")
    if currency:
        accounts = accounts.filter(currency=currency)
    accounts = accounts.annotate(
        d=Sum("balances__posted_debits"), c=Sum("balances__posted_credits")
    )
    return [TrialBalanceRow(a.code, a.type, a.currency, a.d or 0, a.c or 0) for a in accounts]


@dataclass(frozen=True, slots=True)
class Leg:
    """One entry with its transaction's kind and effective time."""

    transaction_id: UUID
    kind: str
    effective_at: datetime
    account_id: UUID
    direction: str
    amount: int
    currency: str


def legs_between(*, since: datetime | None = None, until: datetime | None = None) -> Iterator[Leg]:
    """Every entry with its transaction's kind and effective time (oldest first): what read
    models are rebuilt from."""
    rows = Entry.objects.all()
    if since is not None:
        rows = rows.filter(transaction__effective_at__gte=since)
    if until is not None:
        rows = rows.filter(transaction__effective_at__lt=until)
    values = (
        rows.order_by("transaction__effective_at", "id")
        .values_list(
            "transaction_id",
            "transaction__kind",
            "transaction__effective_at",
            "account_id",
            "direction",
            "amount",
            "currency",
        )
        .iterator(chunk_size=2000)
    )
    return (Leg(*row) for row in values)


@dataclass(frozen=True)
class StatementLine:
    posted_at: datetime
    transaction_id: UUID
    kind: str
    description: str
    amount: int  # signed: positive raises the account's balance
    balance: int


def statement(
    *, account_id: UUID, since: datetime, until: datetime
) -> tuple[int, list[StatementLine]]:
    """Opening balance at `since` and each entry until `until` with the running balance, in
    the account's own sign (a wallet's balance grows with credits)."""
    account = _account(account_id)
    sign = _sign(account.type)
    before = since - timedelta(microseconds=1)  # as_of includes its instant; lines start at it
    opening = account_balance_as_of(account_id=account_id, as_of=before).amount
    lines, balance = [], opening
    rows = (
        Entry.objects.filter(account_id=account_id, posted_at__gte=since, posted_at__lt=until)
        .order_by("posted_at", "shard", "seq")
        .values_list(
            "posted_at",
            "transaction_id",
            "transaction__kind",
            "transaction__description",
            "direction",
            "amount",
        )
    )
    for posted_at, transaction_id, kind, description, direction, amount in rows:
        signed = sign * (amount if direction == "C" else -amount)
        balance += signed
        lines.append(StatementLine(posted_at, transaction_id, kind, description, signed, balance))
    return opening, lines


# --- The ledger API's namespaces -------------------------------------------------------
# An API key opens accounts under its namespace (owner "external", code "ext:<ns>:<code>")
# and its postings carry business keys "ext:<ns>:<reference>". Without `everywhere` (the
# scope ledger:all_accounts) a key sees and moves only its namespace's accounts; anything
# else answers as if it did not exist.
EXTERNAL = "external"


def external_prefix(*, namespace: str) -> str:
    return f"ext:{namespace}:"


def accounts_visible(*, namespace: str, everywhere: bool) -> Any:
    """The accounts a caller may list, newest first (a QuerySet for the API's cursor pages)."""
    accounts = Account.objects.all()
    if not everywhere:
        accounts = accounts.filter(owner_type=EXTERNAL, owner_id=namespace)
    return accounts.order_by("-created_at", "-id")


def account_reachable(*, account_id: UUID, namespace: str, everywhere: bool) -> AccountView:
    account = account_get(account_id=account_id)
    if not everywhere and (account.owner_type, account.owner_id) != (EXTERNAL, namespace):
        raise AccountNotFound()  # as for an account that does not exist
    return account


def accounts_reachable_check(*, account_ids: list[UUID], namespace: str, everywhere: bool) -> None:
    """AccountNotFound naming the first account the caller may not reach (or that is absent)."""
    wanted = set(account_ids)
    found = Account.objects.filter(pk__in=wanted)
    if not everywhere:
        found = found.filter(owner_type=EXTERNAL, owner_id=namespace)
    missing = wanted - set(found.values_list("pk", flat=True))
    if missing:
        raise AccountNotFound(account=str(sorted(missing, key=str)[0]))


def transaction_visible(
    *, transaction_id: UUID, namespace: str, everywhere: bool
) -> TransactionView:
    """A transaction with at least one entry on an account the caller may reach."""
    txn = transaction_get(transaction_id=transaction_id)
    if everywhere:
        return txn
    own = Account.objects.filter(
        pk__in={account for account, _, _ in txn.entries}, owner_type=EXTERNAL, owner_id=namespace
    )
    if not own.exists():
        raise TransactionNotFound()
    return txn


@dataclass(frozen=True)
class HoldDetail:
    id: UUID
    reference: str
    debit_account_id: UUID
    credit_account_id: UUID
    amount: Money
    status: str
    expires_at: datetime | None
    description: str
    metadata: dict[str, Any]
    created_at: datetime
    posted_amount: Money | None
    transaction_id: UUID | None


def hold_external(*, hold_id: UUID, namespace: str) -> HoldDetail:
    """A hold the namespace placed (only its own holds are read, posted or voided by it)."""
    prefix = external_prefix(namespace=namespace)
    hold = Hold.objects.filter(pk=hold_id, idempotency_key__startswith=prefix).first()
    if hold is None:
        raise HoldNotFound()
    return HoldDetail(
        hold.id,
        hold.idempotency_key.removeprefix(prefix),
        hold.debit_account_id,
        hold.credit_account_id,
        Money(hold.amount, hold.currency),
        hold.status,
        hold.expires_at,
        hold.description,
        hold.metadata,
        hold.created_at,
        Money(hold.posted_amount, hold.currency) if hold.posted_amount else None,
        hold.transaction_id,
    )


def account_namespaces(*, account_ids: list[str]) -> set[str]:
    """The API namespaces owning any of these accounts (none for wallets' and system ones)."""
    return set(
        Account.objects.filter(pk__in=account_ids, owner_type=EXTERNAL).values_list(
            "owner_id", flat=True
        )
    )


def hold_account_ids(*, hold_id: str) -> list[str]:
    row = Hold.objects.filter(pk=hold_id).values_list("debit_account_id", "credit_account_id")
    return [str(account) for account in row.first() or ()]
