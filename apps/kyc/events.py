from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True)
class TierChanged(Event):
    name = "kyc.tier_changed"
    user_id: int
    from_level: int
    to_level: int
