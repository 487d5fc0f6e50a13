"""Read models (rebuildable from the ledger at any time) and reconciliation results."""

import uuid

from django.conf import settings
from django.db import models


class ReportedTransaction(models.Model):
    """A ledger transaction already counted in the read models: counting is once per
    transaction, however often its event is delivered or replayed."""

    transaction_id = models.UUIDField(primary_key=True)
    day = models.DateField(db_index=True)

    def __str__(self) -> str:
        return str(self.transaction_id)


class AccountDay(models.Model):
    """Debits and credits of one ledger account on one day, per transaction kind."""

    account_id = models.UUIDField()
    day = models.DateField()
    kind = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    debits = models.BigIntegerField(default=0)
    credits = models.BigIntegerField(default=0)
    entries = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["account_id", "day", "kind"], name="account_day"),
        )

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.kind}"


class KindDay(models.Model):
    """Per day, currency and transaction kind: how many and how much (the debited side)."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=40)
    transactions = models.PositiveIntegerField(default=0)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["day", "currency", "kind"], name="kind_day"),
        )

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.currency}"


class SettlementLine(models.Model):
    """One line of a provider's settlement report (fetched, or uploaded by staff as CSV)."""

    provider = models.CharField(max_length=30)
    day = models.DateField()
    reference = models.CharField(max_length=100, help_text="our payment id, as echoed")
    direction = models.CharField(max_length=10)  # collect / payout
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["provider", "reference"], name="settlement_once"),
        )

    def __str__(self) -> str:
        return f"{self.provider} {self.reference}"


class ReconciliationRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    day = models.DateField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)
    # The column keeps its name; the attribute must not hide Model.clean().
    is_clean = models.BooleanField("clean", default=False, db_column="clean")
    summary = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"reconciliation {self.day} ({'clean' if self.is_clean else 'breaks'})"


class Break(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        INVESTIGATING = "investigating"
        RESOLVED = "resolved"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="breaks")
    kind = models.CharField(max_length=40)
    reference = models.CharField(max_length=200)
    detail = models.JSONField(default=dict)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind}: {self.reference}"
