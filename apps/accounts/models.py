import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in with an email address (customers and staff alike)."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(unique=True)
    default_currency = models.CharField(max_length=3, default="EUR")
    language = models.CharField(max_length=8, default="en")
    # E.164; verified by an SMS code once notifications can send SMS.
    phone = models.CharField(max_length=20, blank=True, default="")
    phone_verified = models.BooleanField(default=False)
    # Closed accounts are kept (record keeping law) but can no longer log in.
    closed_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["phone"], condition=~models.Q(phone=""), name="user_phone_unique"
            ),
        )

    def __str__(self) -> str:
        return self.email


class KnownDevice(models.Model):
    """A device (by user agent) a user has logged in from: a new one triggers an alert."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_devices")
    fingerprint = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["user", "fingerprint"], name="known_device_unique"),
        )

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A machine credential (a service's or a partner's): `fsk_<8>_<secret>`. Only the prefix
    and a SHA-256 of the whole key are kept, so the key is shown once, at creation; the secret
    part carries 256 random bits, so a plain hash is enough (no password stretching)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    namespace = models.SlugField(
        max_length=40, help_text="Ledger accounts this key opens live here; a rolled key keeps it."
    )
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=40), default=list)
    rate = models.CharField(max_length=20, default="600/min", help_text="e.g. 600/min, 20/s")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        User, null=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        constraints = (
            models.CheckConstraint(condition=models.Q(prefix__startswith="fsk_"), name="key_fsk"),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
