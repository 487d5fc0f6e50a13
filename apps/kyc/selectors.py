"""Public reads of apps.kyc: what a customer may do, by verification tier.

Until the KYC issue lands every customer is on the default tier, whose limits come from
settings (KYC_DEFAULT_LIMITS); callers already use this interface.
"""

from dataclasses import dataclass

from django.conf import settings

from apps.core.money import Money


@dataclass(frozen=True)
class Limits:
    tier: int
    per_transaction: Money
    daily: Money
    monthly: Money
    max_balance: Money


def limits_for(*, user_id: int, currency: str) -> Limits:
    table = settings.KYC_DEFAULT_LIMITS
    row = table.get(currency, table["default"])
    return Limits(
        tier=0,
        per_transaction=Money(row["per_transaction"], currency),
        daily=Money(row["daily"], currency),
        monthly=Money(row["monthly"], currency),
        max_balance=Money(row["max_balance"], currency),
    )
