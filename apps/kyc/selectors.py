"""Public reads of apps.kyc: what a customer may do, by verification tier.

Tiers and their limits per currency are data (admin-editable). A customer without a tier is
on tier 0; a currency without a limit row falls back to settings.KYC_DEFAULT_LIMITS.
"""

from dataclasses import dataclass

from django.conf import settings

from apps.core.money import Money
from apps.kyc.models import CustomerTier, Tier, TierLimit


@dataclass(frozen=True)
class Limits:
    tier: int
    per_transaction: Money
    daily: Money
    monthly: Money
    max_balance: Money


def tier_of(*, user_id: int) -> int:
    level = CustomerTier.objects.filter(user_id=user_id).values_list("tier_id", flat=True)
    return level[0] if level else 0


def limits_for(*, user_id: int, currency: str) -> Limits:
    level = tier_of(user_id=user_id)
    row = (
        TierLimit.objects.filter(tier_id=level, currency=currency)
        .values("per_transaction", "daily", "monthly", "max_balance")
        .first()
    )
    if row is None:
        table = settings.KYC_DEFAULT_LIMITS
        row = table.get(currency, table["default"])
    return Limits(
        tier=level,
        per_transaction=Money(row["per_transaction"], currency),
        daily=Money(row["daily"], currency),
        monthly=Money(row["monthly"], currency),
        max_balance=Money(row["max_balance"], currency),
    )


def can_withdraw(*, user_id: int) -> bool:
    """Whether the customer's tier lets money leave the platform (tier 0 cannot)."""
    return Tier.objects.filter(level=tier_of(user_id=user_id), can_withdraw=True).exists()
