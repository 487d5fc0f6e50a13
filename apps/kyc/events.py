from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True)
class TierChanged(Event):
    name = "kyc.tier_changed"
    user_id: int
    from_level: int
    to_level: int


@dataclass(frozen=True)
class KycSubmitted(Event):
    name = "kyc.submitted"
    case_id: str
    user_id: int
    target_tier: int


@dataclass(frozen=True)
class KycApproved(Event):
    name = "kyc.approved"
    case_id: str
    user_id: int
    tier: int


@dataclass(frozen=True)
class KycRejected(Event):
    name = "kyc.rejected"
    case_id: str
    user_id: int
    message: str  # customer-safe


@dataclass(frozen=True)
class KycResubmissionRequested(Event):
    name = "kyc.resubmission_requested"
    case_id: str
    user_id: int
    messages: list  # customer-safe, one per document


@dataclass(frozen=True)
class KycDocumentsExpiring(Event):
    name = "kyc.documents_expiring"
    user_id: int
    expires_on: str


@dataclass(frozen=True)
class KycWithdrawn(Event):
    name = "kyc.withdrawn"
    case_id: str
    user_id: int


@dataclass(frozen=True)
class ScreeningMatchConfirmed(Event):
    """Compliance decided a watch-list hit is the customer: approvals ended, tier 0."""

    name = "kyc.screening_match_confirmed"
    user_id: int
    hit_id: int
    list_name: str
