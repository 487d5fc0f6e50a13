"""Outbound webhooks: endpoints (with their signing secrets), one delivery per event and
endpoint, and the log of every HTTP attempt."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from encrypted_fields.fields import EncryptedCharField

from apps.core.ids import uuid7


class Endpoint(models.Model):
    """A URL of the company's other systems that receives signed POSTs of domain events."""

    class Status(models.TextChoices):
        ENABLED = "enabled"
        DISABLED = "disabled"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Event names from apps.webhooks.catalog; empty or ["*"]: every event.
    event_types = models.JSONField(default=list, blank=True)
    # Set when an API key registered the endpoint: it gets only the ledger events of that
    # namespace's accounts (apps.webhooks.catalog.NAMESPACED), never customers' events.
    namespace = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ENABLED)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Failed attempts since the last success, and when the first of them happened: the
    # automatic disable rule reads both (apps.webhooks.services).
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=Q(status="enabled") | Q(disabled_at__isnull=False),
                name="webhook_endpoint_disabled_has_time",
            ),
        )

    def __str__(self) -> str:
        return self.url


class EndpointSecret(models.Model):
    """A signing secret (`whsec_...`), encrypted at rest. The current one has no expiry; a
    rotated-out one still signs until `expires_at`, so receivers can switch without a gap."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="secrets")
    secret = EncryptedCharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["endpoint"],
                condition=Q(expires_at__isnull=True),
                name="webhook_one_current_secret",
            ),
        )

    def __str__(self) -> str:
        return f"secret of {self.endpoint_id} from {self.created_at:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    """One event to one endpoint: retried until a 2xx or the end of the schedule."""

    class Status(models.TextChoices):
        PENDING = "pending"  # not tried yet
        FAILED = "failed"  # the last attempt failed; another is scheduled
        SUCCEEDED = "succeeded"
        GIVEN_UP = "given_up"  # every attempt of the schedule failed

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="deliveries")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    event_created_at = models.DateTimeField()
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker POSTs: no other claims the delivery before it passes (a worker that
    # died mid-attempt leaves it, and the sweeper sends again after it).
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replays"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = (
            # An event reaches an endpoint once by itself; replays by hand are extra rows.
            models.UniqueConstraint(
                fields=["endpoint", "event_id"],
                condition=Q(replay_of__isnull=True),
                name="webhook_delivery_once_per_event",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["succeeded", "given_up"], next_attempt_at__isnull=True)
                | Q(status__in=["pending", "failed"], next_attempt_at__isnull=False),
                name="webhook_delivery_open_has_next_attempt",
            ),
        )
        indexes = (
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
            models.Index(  # retention and the /metrics gauge of recent give-ups
                fields=["status", "updated_at"],
                condition=Q(status__in=["succeeded", "given_up"]),
                name="webhook_delivery_finished",
            ),
        )

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} to {self.endpoint_id}"


class Attempt(models.Model):
    """One HTTP POST of a delivery and what came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_body = models.CharField(max_length=1000, blank=True)  # the first 1000 characters
    duration_ms = models.PositiveIntegerField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number"),
        )

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
