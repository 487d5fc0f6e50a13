from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.utils import timezone

from apps.core.ids import uuid7


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it describes.

    Rows are kept OUTBOX_RETENTION_DAYS after `dispatched_at`, which is set once the event's
    handler tasks are on the broker (apps.core.retention prunes them; the ledger's audit trail
    is its own entries and hash chains). The sweeper re-dispatches rows left undispatched (a
    crash after commit), and re-sends the handlers of a dispatched row that have not run
    OUTBOX_REDISPATCH_AFTER_SECONDS later (a message lost by the broker). `settled_at` is set
    once every handler has run (or was dead-lettered, or at once for an event nobody
    subscribes to); `gave_up_at` too when OUTBOX_REDISPATCH_MAX re-sends did not make them
    run, `last_error` naming them.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    redispatches = models.PositiveIntegerField(default=0, db_default=0)  # raw SQL inserts too
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Replays scan a time range: rows arrive in time order, so BRIN costs each event
            # next to nothing where a B-tree was one more index entry per row.
            BrinIndex(fields=["created_at"], name="outbox_created_brin"),
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_undispatched_idx",
                condition=models.Q(dispatched_at__isnull=True),
            ),
            # Only rows still waiting for a handler: the re-dispatch check never reads the
            # settled history.
            models.Index(
                fields=["dispatched_at"],
                name="outbox_unsettled_idx",
                condition=models.Q(dispatched_at__isnull=False, settled_at__isnull=True),
            ),
            models.Index(
                fields=["gave_up_at"],
                name="outbox_gave_up_idx",
                condition=models.Q(gave_up_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class ProcessedEvent(models.Model):
    """One row per (event, handler) that ran to commit: a handler's effect happens once."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=200)
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "handler"], name="processed_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.handler} {self.event_id}"


class IdempotencyRecord(models.Model):
    """What a money POST answered for one (user, Idempotency-Key): replayed on retries.

    Kept at least IDEMPOTENCY_TTL_HOURS (a beat job deletes older ones); below this, every
    ledger posting carries a permanent business key, so an expired record cannot double-post.
    """

    IN_FLIGHT, COMPLETED = "in_flight", "completed"

    user_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    request_body = models.JSONField()
    state = models.CharField(max_length=10, default=IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_once_per_user")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key} ({self.state})"


class TaskDelivery(models.Model):
    """How often one Celery message (task id, retry number) was delivered to a worker.

    Written at task start in its own committed transaction, so a worker that dies (SIGKILL,
    out of memory) inside the task still leaves the count behind; deleted when the task ends.
    A message delivered more than the cap is parked as a DeadLetter instead of run again.
    """

    task_id = models.CharField(max_length=255, primary_key=True)
    task = models.CharField(max_length=200)
    retries = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.task} {self.task_id} x{self.deliveries}"


class DeadLetter(models.Model):
    """A task message taken out of circulation: it killed its worker on every delivery
    (parked), or it failed for good. Kept for a person to look at (admin, /metrics)."""

    PARKED, FAILED = "parked", "failed"

    task_id = models.CharField(max_length=255)
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    reason = models.CharField(max_length=10)
    deliveries = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="deadletter_created_idx")]

    def __str__(self) -> str:
        return f"{self.task} {self.task_id} ({self.reason})"


class JobFailure(models.Model):
    """One record a beat job could not process (apps.core.batch): the job went on with the
    others; a person looks here (admin, /metrics) and at the alert operations got. Closed by
    itself when a later run processes the record, or by a person with "retry now"."""

    job = models.CharField(max_length=100)
    item = models.CharField(max_length=200)
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "item"],
                condition=models.Q(resolved_at__isnull=True),
                name="jobfailure_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.item} x{self.attempts}"


class RiskLimit(models.Model):
    """Risk thresholds compliance edits in the admin (audited), in minor units; a row replaces
    the `settings.PAYMENTS_RISK["amount"]` entry of its currency ("default": every currency
    without its own). Rows are read by apps.core.risk, cached per process for
    RISK_RULES_CACHE_SECONDS."""

    DEFAULT = "default"

    currency = models.CharField(
        max_length=7, primary_key=True, help_text='An ISO code (EUR) or "default".'
    )
    review = models.BigIntegerField(
        help_text="From this amount a payment or transfer waits for review."
    )
    deny = models.BigIntegerField(help_text="From this amount it is refused.")
    review_per_day = models.BigIntegerField(
        help_text="A customer's payments in a day above this total go to review."
    )
    max_per_hour = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text='Payments per customer and hour before review ("default" row only).',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(review__gt=0, deny__gt=models.F("review"), review_per_day__gt=0),
                name="risklimit_order",
                violation_error_message="Amounts are positive and deny is above review.",
            ),
            models.CheckConstraint(
                condition=models.Q(currency="default") | models.Q(currency__regex=r"^[A-Z]{3}$"),
                name="risklimit_currency",
                violation_error_message='The currency is a three-letter ISO code or "default".',
            ),
            models.CheckConstraint(
                condition=models.Q(currency="default") | models.Q(max_per_hour__isnull=True),
                name="risklimit_hourly_on_default",
                violation_error_message='Payments per hour is set on the "default" row only.',
            ),
        ]

    def __str__(self) -> str:
        return f"risk limits {self.currency}"
