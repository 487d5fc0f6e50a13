"""KYC test helpers."""

from apps.kyc.models import TierLimit


def set_limits(level: int = 0, currency: str = "EUR", **limits: int) -> None:
    """Change a tier's limits (minor units), as compliance staff would in the admin."""
    TierLimit.objects.filter(tier_id=level, currency=currency).update(**limits)
