"""Public writes of apps.kyc: other apps use only services, selectors and events."""

from django.db import transaction

from apps.core.events import publish
from apps.kyc.events import TierChanged
from apps.kyc.models import CustomerTier, Tier
from apps.kyc.selectors import tier_of


@transaction.atomic
def customer_tier_set(*, user_id: int, level: int) -> None:
    """Move a customer to a tier (a review decision or an auto-approve rule calls this)."""
    tier = Tier.objects.get(level=level)
    previous = tier_of(user_id=user_id)
    if previous == level:
        return
    CustomerTier.objects.update_or_create(user_id=user_id, defaults={"tier": tier})
    publish(TierChanged(user_id=user_id, from_level=previous, to_level=level))


def tiers_ensure() -> None:
    """Create the default tiers and limits where missing (idempotent)."""
    from apps.kyc import tiers
    from apps.kyc.models import TierLimit

    with transaction.atomic():
        tiers.ensure(Tier, TierLimit)
