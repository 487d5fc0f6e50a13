"""Integrity of the ledger: recompute everything from the entries and name each break; seal
daily checkpoints over the hash-chain heads. Used by services (ledger_verify, beat jobs)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.ledger.models import Checkpoint, CheckpointHead, VerificationReport

# Each check: (name, SQL returning one row per break as (subject, detail)).
CHECKS: list[tuple[str, str]] = [
    (
        "stored_balance",
        """
        SELECT a.code || '#' || b.shard, format('stored debits/credits %s/%s, entries %s/%s',
               b.posted_debits, b.posted_credits, coalesce(e.d, 0), coalesce(e.c, 0))
        FROM ledger_balance b JOIN ledger_account a ON a.id = b.account_id
        LEFT JOIN (SELECT account_id, shard,
                          sum(amount) FILTER (WHERE direction = 'D') d,
                          sum(amount) FILTER (WHERE direction = 'C') c
                   FROM ledger_entry GROUP BY 1, 2) e
          ON e.account_id = b.account_id AND e.shard = b.shard
        WHERE b.posted_debits <> coalesce(e.d, 0) OR b.posted_credits <> coalesce(e.c, 0)
        ORDER BY 1""",
    ),
    (
        "sequence",
        """
        SELECT a.code || '#' || b.shard, format('stored seq %s, %s entries numbered %s..%s',
               b.seq, coalesce(e.n, 0), e.lo, e.hi)
        FROM ledger_balance b JOIN ledger_account a ON a.id = b.account_id
        LEFT JOIN (SELECT account_id, shard, count(*) n, min(seq) lo, max(seq) hi
                   FROM ledger_entry GROUP BY 1, 2) e
          ON e.account_id = b.account_id AND e.shard = b.shard
        WHERE b.seq <> coalesce(e.n, 0) OR coalesce(e.lo, 1) <> 1 OR coalesce(e.hi, 0) <> b.seq
        ORDER BY 1""",
    ),
    (
        "running_balance",
        """
        SELECT DISTINCT ON (x.account_id, x.shard) a.code || '#' || x.shard,
               format('first break at seq %s: balance_after %s, recomputed %s',
                      x.seq, x.balance_after, x.recomputed)
        FROM (SELECT account_id, shard, seq, balance_after,
                     sum(CASE direction WHEN 'C' THEN amount ELSE -amount END)
                       OVER (PARTITION BY account_id, shard ORDER BY seq) AS recomputed
              FROM ledger_entry) x JOIN ledger_account a ON a.id = x.account_id
        WHERE x.balance_after <> x.recomputed ORDER BY x.account_id, x.shard, x.seq""",
    ),
    (
        "hash_chain",
        """
        SELECT DISTINCT ON (x.account_id, x.shard) a.code || '#' || x.shard,
               format('first broken link at seq %s (entry %s)', x.seq, x.id)
        FROM (SELECT id, account_id, shard, seq, hash,
                     ledger_entry_hash(lag(hash) OVER w, transaction_id, account_id, shard, seq,
                                       direction, amount, currency, balance_after, posted_at)
                       AS recomputed
              FROM ledger_entry WINDOW w AS (PARTITION BY account_id, shard ORDER BY seq)) x
        JOIN ledger_account a ON a.id = x.account_id
        WHERE x.hash <> x.recomputed ORDER BY x.account_id, x.shard, x.seq""",
    ),
    (
        "chain_head",
        """
        SELECT a.code || '#' || b.shard, 'stored head hash differs from the last entry'
        FROM ledger_balance b JOIN ledger_account a ON a.id = b.account_id
        LEFT JOIN ledger_entry e
          ON e.account_id = b.account_id AND e.shard = b.shard AND e.seq = b.seq
        WHERE b.seq > 0 AND e.hash IS DISTINCT FROM b.head_hash ORDER BY 1""",
    ),
    (
        "pending",
        """
        SELECT a.code || '#' || b.shard, format('stored pending %s/%s, open holds %s/%s',
               b.pending_debits, b.pending_credits, coalesce(d.s, 0), coalesce(c.s, 0))
        FROM ledger_balance b JOIN ledger_account a ON a.id = b.account_id
        LEFT JOIN (SELECT debit_account_id, debit_shard, sum(amount) s FROM ledger_hold
                   WHERE status = 'pending' GROUP BY 1, 2) d
          ON d.debit_account_id = b.account_id AND d.debit_shard = b.shard
        LEFT JOIN (SELECT credit_account_id, credit_shard, sum(amount) s FROM ledger_hold
                   WHERE status = 'pending' GROUP BY 1, 2) c
          ON c.credit_account_id = b.account_id AND c.credit_shard = b.shard
        WHERE b.pending_debits <> coalesce(d.s, 0) OR b.pending_credits <> coalesce(c.s, 0)
        ORDER BY 1""",
    ),
    (
        "transaction_balanced",
        """
        SELECT t.id::text, format('%s entries; per-currency imbalance %s', count(e.id),
               coalesce(string_agg(DISTINCT e.currency, ','), '-'))
        FROM ledger_transaction t LEFT JOIN ledger_entry e ON e.transaction_id = t.id
        GROUP BY t.id
        HAVING count(e.id) < 2 OR EXISTS (
          SELECT 1 FROM ledger_entry x WHERE x.transaction_id = t.id GROUP BY x.currency
          HAVING sum(CASE x.direction WHEN 'D' THEN x.amount ELSE -x.amount END) <> 0)
        ORDER BY 1""",
    ),
    (
        "conservation",
        """
        SELECT a.currency, format('credits - debits over all accounts = %s, pending %s/%s',
               sum(b.posted_credits - b.posted_debits), sum(b.pending_debits),
               sum(b.pending_credits))
        FROM ledger_balance b JOIN ledger_account a ON a.id = b.account_id
        GROUP BY a.currency
        HAVING sum(b.posted_credits - b.posted_debits) <> 0
            OR sum(b.pending_debits) <> sum(b.pending_credits)
        ORDER BY 1""",
    ),
    (
        "checkpoint_head",
        """
        SELECT c.day::text || ' ' || a.code || '#' || h.shard,
               format('sealed seq %s no longer has the sealed hash', h.seq)
        FROM ledger_checkpointhead h JOIN ledger_checkpoint c ON c.id = h.checkpoint_id
        JOIN ledger_account a ON a.id = h.account_id
        LEFT JOIN ledger_entry e
          ON e.account_id = h.account_id AND e.shard = h.shard AND e.seq = h.seq
        WHERE e.hash IS DISTINCT FROM h.hash ORDER BY c.day, 1""",
    ),
]


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    breaks: list[dict[str, str]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def checkpoint_hash(previous: bytes, day: date, heads: list[tuple[str, int, int, bytes]]) -> bytes:
    """sha256(previous || day || "account|shard|seq|hexhash" lines sorted). Auditors can
    recompute it offline from an export (scripts/verify_checkpoints.py)."""
    digest = hashlib.sha256(previous)
    digest.update(day.isoformat().encode())
    for account, shard, seq, head in sorted(heads):
        digest.update(f"\n{account}|{shard}|{seq}|{head.hex()}".encode())
    return digest.digest()


def _checkpoint_breaks() -> list[dict[str, str]]:
    breaks = []
    previous = b""
    for checkpoint in Checkpoint.objects.order_by("day").prefetch_related("heads"):
        heads = [(str(h.account_id), h.shard, h.seq, bytes(h.hash)) for h in checkpoint.heads.all()]
        if bytes(checkpoint.previous_hash) != previous:
            breaks.append(
                {
                    "check": "checkpoint_chain",
                    "subject": str(checkpoint.day),
                    "detail": "does not chain to the previous checkpoint",
                }
            )
        if checkpoint_hash(bytes(checkpoint.previous_hash), checkpoint.day, heads) != bytes(
            checkpoint.hash
        ):
            breaks.append(
                {
                    "check": "checkpoint_hash",
                    "subject": str(checkpoint.day),
                    "detail": "hash does not match its sealed heads",
                }
            )
        previous = bytes(checkpoint.hash)
    return breaks


def verify(*, store: bool = False) -> VerificationResult:
    """Recompute every balance, sequence, running balance and hash from the entries."""
    started = timezone.now()
    breaks: list[dict[str, str]] = []
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # one snapshot for all checks: concurrent postings cannot look like breaks
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for name, sql in CHECKS:
            cursor.execute(sql)
            breaks += [{"check": name, "subject": s, "detail": d} for s, d in cursor.fetchall()]
        cursor.execute(
            "SELECT (SELECT count(*) FROM ledger_entry),"
            " (SELECT count(*) FROM ledger_transaction),"
            " (SELECT count(*) FROM ledger_account)"
        )
        entries, transactions, accounts = cursor.fetchone()
        breaks += _checkpoint_breaks()
    stats = {
        "entries": entries,
        "transactions": transactions,
        "accounts": accounts,
        "checkpoints": Checkpoint.objects.count(),
    }
    result = VerificationResult(ok=not breaks, breaks=breaks, stats=stats)
    if store:
        VerificationReport.objects.create(
            started_at=started, finished_at=timezone.now(), ok=result.ok, breaks=breaks, stats=stats
        )
    return result


@transaction.atomic
def checkpoint_seal(*, day: date) -> bytes:
    """Seal `day`: the chain heads that moved that day, chained to the previous checkpoint.
    Idempotent per day; days must be sealed in order."""
    # One sealer at a time (two beats at once), and after the last sealed day only. The day
    # is looked up under the lock: a sealer that waited finds the other's checkpoint.
    connection.cursor().execute("SELECT pg_advisory_xact_lock(hashtext('ledger.checkpoint'))")
    existing = Checkpoint.objects.filter(day=day).first()
    if existing is not None:
        return bytes(existing.hash)
    last = Checkpoint.objects.order_by("-day").first()
    if last is not None and last.day >= day:
        raise ValueError(f"{day} is not after the last sealed day {last.day}.")
    start = datetime.combine(day, time.min, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT DISTINCT ON (account_id, shard) account_id::text, shard, seq, hash
               FROM ledger_entry WHERE posted_at >= %s AND posted_at < %s
               ORDER BY account_id, shard, seq DESC""",
            [start, start + timedelta(days=1)],
        )
        heads = [(a, s, q, bytes(h)) for a, s, q, h in cursor.fetchall()]
    previous = bytes(last.hash) if last else b""
    digest = checkpoint_hash(previous, day, heads)
    checkpoint = Checkpoint.objects.create(day=day, previous_hash=previous, hash=digest)
    CheckpointHead.objects.bulk_create(
        CheckpointHead(checkpoint=checkpoint, account_id=a, shard=s, seq=q, hash=h)
        for a, s, q, h in heads
    )
    return digest


def checkpoints_seal_due() -> int:
    """Seal every whole day not sealed yet (from the first entry's day up to yesterday)."""
    last = Checkpoint.objects.order_by("-day").values_list("day", flat=True).first()
    if last is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(posted_at) FROM ledger_entry")
            (first,) = cursor.fetchone()
        if first is None:
            return 0
        day = first.astimezone(UTC).date()
    else:
        day = last + timedelta(days=1)
    yesterday = timezone.now().astimezone(UTC).date() - timedelta(days=1)
    sealed = 0
    while day <= yesterday:
        checkpoint_seal(day=day)
        sealed += 1
        day += timedelta(days=1)
    return sealed


ALGORITHM = (
    "hash = sha256(previous_hash || day as YYYY-MM-DD || for each head sorted by (account_id, "
    "shard, seq, hash): '\\n' account_id '|' shard '|' seq '|' lowercase hex hash), all UTF-8. "
    "Each head is the hash of the last entry of that account shard posted that day."
)


def checkpoint_export(*, day: date) -> dict[str, Any] | None:
    """A sealed day's checkpoint as plain JSON data for an auditor."""
    checkpoint = Checkpoint.objects.filter(day=day).prefetch_related("heads").first()
    if checkpoint is None:
        return None
    return {
        "day": day.isoformat(),
        "previous_hash": bytes(checkpoint.previous_hash).hex(),
        "hash": bytes(checkpoint.hash).hex(),
        "heads": sorted(
            (
                {
                    "account_id": str(h.account_id),
                    "shard": h.shard,
                    "seq": h.seq,
                    "hash": bytes(h.hash).hex(),
                }
                for h in checkpoint.heads.all()
            ),
            key=lambda h: (h["account_id"], h["shard"], h["seq"], h["hash"]),
        ),
        "algorithm": ALGORITHM,
    }
