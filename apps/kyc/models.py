from django.conf import settings
from django.db import models
from django.db.models import Q


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
