import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from encrypted_fields.fields import EncryptedCharField


class Tier(models.Model):
    """A verification level and what it allows; its limits are data, edited in the admin."""

    level = models.PositiveSmallIntegerField(primary_key=True)
    name = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    can_withdraw = models.BooleanField(default=False)

    class Meta:
        ordering = ["level"]

    def __str__(self) -> str:
        return f"{self.level}: {self.name}"


class TierLimit(models.Model):
    """Limits of one tier in one currency, in minor units."""

    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="limits")
    currency = models.CharField(max_length=3)
    per_transaction = models.BigIntegerField()
    daily = models.BigIntegerField()
    monthly = models.BigIntegerField()
    max_balance = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tier", "currency"], name="tier_limit_once"),
            models.CheckConstraint(
                condition=Q(
                    per_transaction__gte=0, daily__gte=0, monthly__gte=0, max_balance__gte=0
                ),
                name="tier_limit_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"tier {self.tier_id} {self.currency}"


class CustomerTier(models.Model):
    """A customer's current tier (none yet: tier 0)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: tier {self.tier_id}"


def _private_path(instance: "Document", filename: str) -> str:
    # Never the customer's file name (it may carry PII); never a public URL.
    return f"kyc/{instance.case.user_id}/{instance.pk}"


class Profile(models.Model):
    """The identity a customer declares. Sensitive fields are encrypted at rest."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nationality = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    address_line = models.CharField(max_length=200)
    postal_code = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    tax_id = EncryptedCharField(max_length=40, blank=True, null=True)
    updated_at = models.DateTimeField(auto_now=True)
    pseudonymised_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"


class CaseState(models.TextChoices):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    PENDING_SECOND_REVIEW = "pending_second_review"
    APPROVED = "approved"
    NEEDS_RESUBMISSION = "needs_resubmission"
    REJECTED_FINAL = "rejected_final"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Case(models.Model):
    """A request to reach a tier, reviewed by compliance (and a provider's opinion)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    target_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=24, choices=CaseState.choices, default=CaseState.DRAFT)
    attempts = models.PositiveSmallIntegerField(default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="who approved first (four-eyes: another person must confirm)",
    )
    provider_result = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False, help_text="never purge while set")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = (
            ("review_case", "Can review KYC cases"),
            ("legal_hold", "Can set and lift a legal hold on KYC cases"),
        )
        constraints = (
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(
                    state__in=[
                        "draft",
                        "submitted",
                        "in_review",
                        "pending_second_review",
                        "needs_resubmission",
                    ]
                ),
                name="one_open_case_per_user",
            ),
        )

    def __str__(self) -> str:
        return f"case {self.pk} ({self.state})"


class CaseTransition(models.Model):
    """The append-only trail (a trigger refuses UPDATE and DELETE)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="trail")
    at = models.DateTimeField(auto_now_add=True)
    from_state = models.CharField(max_length=24)
    to_state = models.CharField(max_length=24)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason_code = models.CharField(max_length=40, blank=True)
    customer_message = models.CharField(max_length=300, blank=True)
    staff_note = models.TextField(blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class Document(models.Model):
    class Type(models.TextChoices):
        PASSPORT = "passport"
        ID_FRONT = "national_id_front"
        ID_BACK = "national_id_back"
        DRIVING_LICENCE = "driving_licence"
        PROOF_OF_ADDRESS = "proof_of_address"
        SELFIE = "selfie"

    class Review(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        RESUBMIT = "resubmit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    type = models.CharField(max_length=20, choices=Type.choices)
    file = models.FileField(upload_to=_private_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    number = EncryptedCharField(max_length=60, blank=True, null=True)
    expires_on = models.DateField(null=True, blank=True)
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    reason_code = models.CharField(max_length=40, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.type} ({self.review})"


class WatchlistEntry(models.Model):
    """Sanctions/PEP names to screen against (loaded in the admin with django-import-export)."""

    name = models.CharField(max_length=200)
    list_name = models.CharField(max_length=40, help_text="e.g. EU sanctions, PEP")
    country = models.CharField(max_length=2, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "watch list"

    def __str__(self) -> str:
        return f"{self.name} ({self.list_name})"


class ScreeningHit(models.Model):
    """A possible match of one customer with one watch-list entry, decided by compliance on
    its own. `entry_fingerprint` is the entry as it was matched: a decided hit is not raised
    again by a later screening unless the entry changed."""

    class Decision(models.TextChoices):
        PENDING = "pending"
        TRUE_MATCH = "true_match"
        FALSE_POSITIVE = "false_positive"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="hits"
    )
    entry = models.ForeignKey(WatchlistEntry, on_delete=models.PROTECT, related_name="+")
    entry_fingerprint = models.CharField(max_length=64)
    score = models.PositiveSmallIntegerField()
    found_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["user", "entry"],
                condition=Q(decision="pending"),
                name="kyc_one_open_hit_per_entry",
            ),
            models.CheckConstraint(
                condition=Q(decision="pending", decided_at__isnull=True)
                | (~Q(decision="pending") & Q(decided_at__isnull=False) & ~Q(note="")),
                name="kyc_hit_decided_with_note",
            ),
        )

    def __str__(self) -> str:
        return f"{self.entry} ({self.score}, {self.decision})"


class ProviderWebhook(models.Model):
    """A verification vendor's callback, once per vendor event id."""

    provider = models.CharField(max_length=30)
    event_id = models.CharField(max_length=200)
    raw_body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["provider", "event_id"], name="kyc_webhook_once"),
        )

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"
