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


@dataclass(frozen=True)
class WalletMemberInvited(Event):
    """Only published when the contact belongs to a customer (the invitee hears of it)."""

    name = "wallets.member_invited"
    invitation_id: str
    wallet_id: str
    wallet_name: str
    owner_id: int
    invitee_id: int
    role: str


@dataclass(frozen=True)
class WalletInvitationAnswered(Event):
    """The invitee accepted (now a member) or declined; the owner hears of it."""

    name = "wallets.invitation_answered"
    invitation_id: str
    wallet_id: str
    wallet_name: str
    owner_id: int
    invitee_id: int
    accepted: bool


@dataclass(frozen=True)
class WalletMemberChanged(Event):
    """A member's role or daily limit changed (by the owner or staff)."""

    name = "wallets.member_changed"
    wallet_id: str
    wallet_name: str
    owner_id: int
    user_id: int
    role: str
    daily_limit: int | None
    currency: str
    by_staff: bool


@dataclass(frozen=True)
class WalletMemberRemoved(Event):
    """A member is off the wallet: removed by the owner or staff, or `left` on their own."""

    name = "wallets.member_removed"
    wallet_id: str
    wallet_name: str
    owner_id: int
    user_id: int
    left: bool
    by_staff: bool


@dataclass(frozen=True)
class MoneyRequested(Event):
    """Only published when the contact belongs to a customer (the payer hears of it)."""

    name = "wallets.money_requested"
    request_id: str
    requester_id: int
    payer_id: int
    amount: int
    currency: str
    note: str


@dataclass(frozen=True)
class MoneyRequestClosed(Event):
    """The request ended: `state` accepted, declined, cancelled or expired."""

    name = "wallets.money_request_closed"
    request_id: str
    requester_id: int
    payer_id: int | None
    amount: int
    currency: str
    state: str
