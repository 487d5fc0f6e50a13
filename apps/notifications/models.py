import uuid

from django.conf import settings
from django.db import models

from apps.notifications.catalog import CATEGORIES, CHANNELS


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


class Notification(models.Model):
    """An in-app message: the inbox the API lists."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=40)
    category = models.CharField(max_length=20, choices=_choices(CATEGORIES))
    title = models.CharField(max_length=200)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    event_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = (models.Index(fields=["user", "-created_at"], name="notification_inbox"),)
        constraints = (
            models.UniqueConstraint(
                fields=["event_id", "user", "kind"], name="notification_once_per_event"
            ),
        )

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One message on one channel to one user; at most one per (event, user, channel, kind)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        RETRYING = "retrying"
        SENT = "sent"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=40)
    channel = models.CharField(max_length=10, choices=_choices(CHANNELS))
    address = models.CharField(max_length=254, help_text="e-mail, phone or 'devices'")
    event_id = models.UUIDField(null=True, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = (
            models.UniqueConstraint(
                fields=["event_id", "user", "channel", "kind"], name="delivery_once_per_event"
            ),
        )
        indexes = (models.Index(fields=["status", "channel"], name="delivery_status"),)

    def __str__(self) -> str:
        return f"{self.kind} via {self.channel} to {self.address}"


class DeliveryAttempt(models.Model):
    """The log: one row per attempt, with the outcome the provider gave."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10)
    error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status}"


class Preference(models.Model):
    """A user's choice for one category on one channel (absent: the default, on)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    category = models.CharField(max_length=20, choices=_choices(CATEGORIES))
    channel = models.CharField(max_length=10, choices=_choices(CHANNELS))
    enabled = models.BooleanField()

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["user", "category", "channel"], name="preference_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.category}/{self.channel}: {'on' if self.enabled else 'off'}"


class PushDevice(models.Model):
    class Platform(models.TextChoices):
        IOS = "ios"
        ANDROID = "android"
        WEB = "web"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    platform = models.CharField(max_length=10, choices=Platform.choices)
    token = models.CharField(max_length=512, unique=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_registered_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.platform} device of {self.user_id}"
