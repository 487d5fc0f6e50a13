"""The default tiers: one definition for the data migration and for tests' database resets."""

from typing import Any

# level, name, can_withdraw, limits in major units: per transaction, daily, monthly, max balance
TIERS = [
    (0, "Unverified", False, (100, 250, 1_000, 1_500)),
    (1, "Basic: profile and phone", True, (1_000, 2_500, 10_000, 15_000)),
    (2, "Full: identity, selfie and address", True, (10_000, 25_000, 100_000, 1_000_000)),
]
CURRENCIES = ["EUR", "USD", "GBP"]  # two decimal places: major * 100 minor units


def ensure(tier_model: type[Any], limit_model: type[Any]) -> None:
    for level, name, can_withdraw, limits in TIERS:
        tier, _ = tier_model.objects.get_or_create(
            level=level, defaults={"name": name, "can_withdraw": can_withdraw}
        )
        for currency in CURRENCIES:
            per_transaction, daily, monthly, max_balance = (x * 100 for x in limits)
            limit_model.objects.get_or_create(
                tier=tier,
                currency=currency,
                defaults={
                    "per_transaction": per_transaction,
                    "daily": daily,
                    "monthly": monthly,
                    "max_balance": max_balance,
                },
            )
