"""The double-entry ledger's tables. Rows are written only by the SQL functions of migration
0002 (called from services.py); triggers there refuse UPDATE/DELETE of history and commit of an
unbalanced transaction, so these models carry no business operations."""

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import F, Q

from apps.core.ids import uuid7


class AccountType(models.TextChoices):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


class AccountStatus(models.TextChoices):
    ACTIVE = "active"
    FROZEN = "frozen"  # may receive, may not send
    CLOSED = "closed"  # neither


class BalanceRule(models.TextChoices):
    NONE = "none"
    DEBITS_MUST_NOT_EXCEED_CREDITS = "debits_must_not_exceed_credits"  # customer wallets
    CREDITS_MUST_NOT_EXCEED_DEBITS = "credits_must_not_exceed_debits"


class Account(models.Model):
    """A logical account. Its balances live in `shards` Balance rows: a busy system account
    (bank clearing) is split so postings do not all queue behind one row lock."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    currency = models.CharField(max_length=3)
    owner_type = models.CharField(max_length=30, default="system")  # "system", "wallet", ...
    owner_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    rule = models.CharField(max_length=40, choices=BalanceRule.choices, default=BalanceRule.NONE)
    shards = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="acct_ccy"),
            models.CheckConstraint(condition=Q(shards__gte=1, shards__lte=64), name="acct_shards"),
            # A balance rule is checked under one row lock: only unsharded accounts carry one.
            models.CheckConstraint(condition=Q(shards=1) | Q(rule="none"), name="acct_rule_1"),
        ]
        indexes = [models.Index(fields=["owner_type", "owner_id"], name="acct_owner_idx")]

    def __str__(self) -> str:
        return self.code


class Balance(models.Model):
    """Stored balances of one account shard: the row a posting locks. O(1) reads."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="balances")
    shard = models.PositiveSmallIntegerField(default=0)
    posted_debits = models.BigIntegerField(default=0)
    posted_credits = models.BigIntegerField(default=0)
    pending_debits = models.BigIntegerField(default=0)
    pending_credits = models.BigIntegerField(default=0)
    seq = models.BigIntegerField(default=0)  # sequence number of this shard's last entry
    head_hash = models.BinaryField(default=b"")  # hash of this shard's last entry

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "shard"], name="balance_account_shard"),
            models.CheckConstraint(
                condition=Q(
                    posted_debits__gte=0,
                    posted_credits__gte=0,
                    pending_debits__gte=0,
                    pending_credits__gte=0,
                    seq__gte=0,
                ),
                name="balance_nonnegative_sums",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}#{self.shard}"


REVERSED_ONCE = "txn_reversed_once"  # the constraint's name, which a lost race reports


class Transaction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)  # time-ordered
    idempotency_key = models.CharField(max_length=255)  # unique: see Meta (no LIKE index)
    kind = models.CharField(max_length=40)
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict)
    effective_at = models.DateTimeField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)
    # Reversed at most once: a unique index of the reversals only (see Meta), so that the
    # other 99.9% of postings write no index entry for a NULL.
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="txn_idempotency_key"),
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name=REVERSED_ONCE
            ),
        ]
        indexes = [BrinIndex(fields=["created_at"], name="txn_created_brin")]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class Direction(models.TextChoices):
    DEBIT = "D"
    CREDIT = "C"


class Entry(models.Model):
    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    # Indexed by entry_seq (account, shard, seq): a second index would only slow postings.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    shard = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()  # gapless per (account, shard)
    direction = models.CharField(max_length=1, choices=Direction.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    balance_after = models.BigIntegerField()  # posted credits - debits of the shard after this
    posted_at = models.DateTimeField()  # clock time under the shard lock: ordered like seq
    hash = models.BinaryField()  # sha256(previous entry's hash of the shard | this entry)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "shard", "seq"], name="entry_seq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="entry_amount_positive"),
            models.CheckConstraint(condition=Q(direction__in=["D", "C"]), name="entry_direction"),
        ]
        indexes = [
            models.Index(fields=["account", "shard", "posted_at"], name="entry_asof_idx"),
            # Daily checkpoints scan a day: a BRIN index (rows arrive in time order) costs
            # postings next to nothing, unlike a B-tree.
            BrinIndex(fields=["posted_at"], name="entry_posted_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.amount} {self.currency} #{self.seq}"


class HoldStatus(models.TextChoices):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


class Hold(models.Model):
    """A two-phase transfer: reserves funds (pending), then posted or voided exactly once."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    idempotency_key = models.CharField(max_length=255)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    debit_shard = models.PositiveSmallIntegerField()
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit_shard = models.PositiveSmallIntegerField()
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=HoldStatus.choices)
    expires_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=40)
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict)  # e.g. {"payment_id": ...} for explanations
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    posted_amount = models.BigIntegerField(null=True, blank=True)
    transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="hold"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="hold_idempotency_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(posted_amount__isnull=True)
                | Q(posted_amount__gt=0, posted_amount__lte=F("amount")),
                name="hold_posted_within_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["debit_account", "expires_at"],
                name="hold_pending_debit_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["expires_at"], name="hold_pending_expiry_idx", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.amount} {self.currency} ({self.status})"


class Checkpoint(models.Model):
    """A daily seal: hash over the chain heads that moved since the previous checkpoint,
    chained to that checkpoint. Sealed history cannot change without breaking it."""

    day = models.DateField(unique=True)
    previous_hash = models.BinaryField()
    hash = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"checkpoint {self.day}"


class CheckpointHead(models.Model):
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="heads")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    shard = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()
    hash = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "account", "shard"], name="checkpoint_head_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}#{self.shard}@{self.seq}"


class VerificationReport(models.Model):
    """What a ledger_verify run found; the nightly beat job stores one per run."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    breaks = models.JSONField(default=list)
    stats = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"verification {self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'BREAKS'}"


class AdjustmentStatus(models.TextChoices):
    PROPOSED = "proposed"
    POSTED = "posted"
    REJECTED = "rejected"


class Adjustment(models.Model):
    """A manual correction: proposed by one staff user, approved by another (maker-checker)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_amount_positive"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="adjustment_four_eyes",
            ),
        ]
        permissions = [("approve_adjustment", "Can approve a ledger adjustment")]

    def __str__(self) -> str:
        return f"adjustment {self.amount} {self.currency} ({self.status})"


class ReversalStatus(models.TextChoices):
    PROPOSED = "proposed"
    POSTED = "posted"
    REJECTED = "rejected"


REVERSAL_ONCE = "reversal_once"  # the constraint's name, which a lost race reports


class Reversal(models.Model):
    """Undoing a posted transaction (a mistaken transfer, a duplicate adjustment): proposed
    by one staff user, approved by another, then posted as its mirror image (maker-checker)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="reversal_proposals"
    )
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=ReversalStatus.choices, default=ReversalStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reversal_transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            # Rejected proposals stay as history; only one may be open or posted at a time.
            models.UniqueConstraint(
                fields=["transaction"],
                condition=Q(status__in=["proposed", "posted"]),
                name=REVERSAL_ONCE,
            ),
            models.CheckConstraint(condition=Q(reason__regex=r"\S"), name="reversal_reason"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="reversal_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(
                    status="proposed",
                    decided_by__isnull=True,
                    decided_at__isnull=True,
                    reversal_transaction__isnull=True,
                )
                | Q(
                    status="posted",
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                    reversal_transaction__isnull=False,
                )
                | Q(
                    status="rejected",
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                    reversal_transaction__isnull=True,
                ),
                name="reversal_decision",
            ),
        ]
        permissions = [("approve_reversal", "Can approve a ledger reversal")]

    def __str__(self) -> str:
        return f"reversal of {self.transaction_id} ({self.status})"


class Currency(models.Model):
    """A currency the platform books. A row exists once its system accounts (clearing, fees,
    suspense...) do; `enabled`: customers may open wallets and pay in. A disabled currency
    still lets money already in it move and leave, so disabling never traps a balance."""

    code = models.CharField(max_length=3, primary_key=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "currencies"
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z]{3}$"), name="currency_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({'enabled' if self.enabled else 'disabled'})"
