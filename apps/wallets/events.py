from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True)
class WalletCreated(Event):
    name = "wallets.wallet_created"
    wallet_id: str
    owner_id: int
    currency: str


@dataclass(frozen=True)
class WalletStatusChanged(Event):
    name = "wallets.wallet_status_changed"
    wallet_id: str
    owner_id: int
    from_status: str
    to_status: str
    reason: str


@dataclass(frozen=True)
class TransferCompleted(Event):
    """Both parties hear of it: the sender (transfer sent) and the recipient (money received)."""

    name = "wallets.transfer_completed"
    transfer_id: str
    source_wallet_id: str
    destination_wallet_id: str
    sender_id: int
    recipient_id: int
    amount: int
    fee: int
    currency: str
    note: str


@dataclass(frozen=True)
class TransferInReview(Event):
    """Held for staff review by the risk rules: the money is reserved, not moved."""

    name = "wallets.transfer_in_review"
    review_id: str
    source_wallet_id: str
    destination_wallet_id: str
    sender_id: int
    amount: int
    currency: str
    reasons: list[str]


@dataclass(frozen=True)
class TransferReviewApproved(Event):
    name = "wallets.transfer_review_approved"
    review_id: str
    transfer_id: str
    sender_id: int
    decided_by_id: int


@dataclass(frozen=True)
class TransferReviewDeclined(Event):
    name = "wallets.transfer_review_declined"
    review_id: str
    sender_id: int
    decided_by_id: int
