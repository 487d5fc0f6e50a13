"""Payments between Finstack and the outside world, each a durable saga stored here."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class FundingSource(models.Model):
    """A customer's external bank account, tokenised by the provider (we keep no full IBAN)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    provider = models.CharField(max_length=30)
    provider_token = models.CharField(max_length=200)
    holder_name = models.CharField(max_length=140)
    iban_last4 = models.CharField(max_length=4)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the IBAN: no duplicates")
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["user", "fingerprint"],
                condition=Q(removed_at__isnull=True),
                name="funding_source_once_per_user",
            ),
        )

    def __str__(self) -> str:
        return f"{self.holder_name} ••••{self.iban_last4}"


class State(models.TextChoices):
    REQUIRES_CONFIRMATION = "requires_confirmation"
    IN_REVIEW = "in_review"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# Every allowed move; anything else is refused (Payment.transition and a conditional UPDATE).
# failed/canceled -> succeeded is only ever taken by a staff resolution ("book it", approved
# by a second person) when the bank confirmed, after we gave the payment up, money that it
# moved after all: the payment ends as what really happened. processing -> canceled is only
# the customer's cancel before the REQUEST step first ran (services.payment_cancel).
TRANSITIONS: dict[str, set[str]] = {
    State.REQUIRES_CONFIRMATION: {State.PROCESSING, State.IN_REVIEW, State.CANCELED},
    State.IN_REVIEW: {State.PROCESSING, State.CANCELED},
    State.PROCESSING: {State.SUCCEEDED, State.FAILED, State.CANCELED},
    State.SUCCEEDED: set(),
    State.FAILED: {State.SUCCEEDED},
    State.CANCELED: {State.SUCCEEDED},
}
TERMINAL = frozenset({State.SUCCEEDED, State.FAILED, State.CANCELED})


class Payment(models.Model):
    """A deposit or a withdrawal, with its saga: `step` is what runs next, `due_at` when the
    recovery job must look at it if nothing else has."""

    class Direction(models.TextChoices):
        DEPOSIT = "deposit"
        WITHDRAWAL = "withdrawal"

    class Step(models.TextChoices):
        REQUEST = "request"  # ask the provider to collect / pay out
        AWAIT = "await"  # wait for its webhook (or poll it when overdue)
        DONE = "done"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    wallet_id = models.UUIDField()
    wallet_account_id = models.UUIDField(help_text="the wallet's ledger account")
    funding_source = models.ForeignKey(FundingSource, on_delete=models.PROTECT)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=30)
    provider_ref = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=24, choices=State.choices)
    step = models.CharField(max_length=10, choices=Step.choices, default=Step.REQUEST)
    step_attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(db_index=True)
    deadline_at = models.DateTimeField(help_text="past this, an unfinished payment is failed")
    hold_id = models.UUIDField(null=True, blank=True)
    ledger_transaction_id = models.UUIDField(null=True, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    cancellation_reason = models.CharField(
        max_length=40, blank=True, help_text="why it was canceled, e.g. requested_by_customer"
    )
    needs_attention = models.BooleanField(
        default=False, help_text="the provider contradicted a final state: reconcile by hand"
    )
    risk = models.JSONField(default=dict, blank=True)
    client_key = models.CharField(max_length=255, help_text="the client's Idempotency-Key")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            # The business key: a retry after the HTTP idempotency record expired finds this.
            models.UniqueConstraint(
                fields=["user", "direction", "client_key"], name="payment_once_per_key"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(direction="withdrawal", state="processing") | Q(hold_id__isnull=False),
                name="withdrawal_processing_has_hold",
            ),
        )
        indexes = (models.Index(fields=["user", "-created_at"], name="payment_user_recent"),)

    def __str__(self) -> str:
        return f"{self.direction} {self.amount} {self.currency} ({self.state})"


class PaymentEvent(models.Model):
    """The payment's timeline: state changes, saga steps, provider calls, webhooks, postings."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20)  # state, step, provider, webhook, ledger, review
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    cause = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.kind}: {self.cause}"


class WebhookEvent(models.Model):
    """A provider's callback as received (raw), once per provider event id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=30)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=60)
    payment_id = models.UUIDField(null=True, blank=True)
    raw_body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_once"),
        )

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"


class RiskReview(models.Model):
    """A payment the risk rules sent to compliance staff."""

    class Decision(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        WITHDRAWN = "withdrawn"  # the customer canceled the payment before a decision

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="review")
    reasons = models.JSONField(default=list)
    decision = models.CharField(max_length=10, choices=Decision.choices, default="pending")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"review of {self.payment_id}: {self.decision}"


class SimulatedBankPayment(models.Model):
    """The simulated provider's own books (it is "the outside world", kept in our database
    only so that it behaves the same across processes)."""

    payment_id = models.UUIDField(primary_key=True)
    kind = models.CharField(max_length=10)  # collect / payout
    token = models.CharField(max_length=200)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, default="pending")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sim {self.kind} {self.payment_id}: {self.state}"


class ManualAction(models.Model):
    """A staff action on a stuck or contradicted payment: one staff member proposes, another
    approves, and only then does it run (see services: compensation_*, resolution_*)."""

    class Action(models.TextChoices):
        COMPENSATE = "compensate", "Compensate: cancel at the bank, release the hold"
        BOOK = "book", "Book it: post what the bank did"
        RETURN = "return", "Return the money: refunded at the bank, not booked"
        CLOSE = "close", "Close as resolved: no money moves"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="manual_actions")
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.COMPENSATE)
    reason = models.TextField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    executed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        permissions = (("approve_manualaction", "Can approve manual payment actions"),)
        constraints = (
            models.CheckConstraint(
                condition=~Q(approved_by=models.F("proposed_by")), name="manual_action_four_eyes"
            ),
        )

    def __str__(self) -> str:
        return f"{self.action} {self.payment_id}"
