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
