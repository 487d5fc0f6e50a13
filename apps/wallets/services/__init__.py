"""Public writes of apps.wallets: wallets, their status, shared members and P2P transfers.

Split by topic; every name callers use is re-exported here. Tests that replace a helper
patch the module that looks it up (e.g. `services.transfers._lock_gate_and_load`)."""

from apps.wallets.errors import (  # other apps catch them here
    AlreadyMember,
    CurrencyMismatch,
    DeciderIsParty,
    InvitationNotFound,
    InvitationNotPending,
    LimitExceeded,
    MemberNotFound,
    MoneyRequestNotFound,
    MoneyRequestNotPending,
    NotAllowedToSend,
    NotWalletOwner,
    RecipientNotFound,
    ReviewAlreadyDecided,
    RiskDenied,
    SelfRequest,
    SelfTransfer,
    WalletClosed,
    WalletExists,
    WalletFrozen,
    WalletHasOpenHolds,
    WalletNotEmpty,
    WalletNotFound,
    WalletNotShared,
)
from apps.wallets.selectors import TransferView  # transfer_create's result
from apps.wallets.services.limits import (
    receive_check,
    spend_release,
    spend_reserve,
)
from apps.wallets.services.members import (
    wallet_invitation_answer,
    wallet_invitation_create,
    wallet_member_remove,
    wallet_member_update,
)
from apps.wallets.services.requests import (
    MONEY_REQUESTS_EXPIRE_JOB,
    money_request_accept,
    money_request_cancel,
    money_request_create,
    money_request_decline,
    money_request_expire,
    money_requests_expire,
)
from apps.wallets.services.review import (
    transfer_review_decide,
)
from apps.wallets.services.transfers import (
    transfer_create,
)
from apps.wallets.services.wallets import (
    default_wallet_ensure,
    owner_wallets_close,
    wallet_close,
    wallet_close_by_staff,
    wallet_create,
    wallet_member_add,
    wallet_set_status,
)

__all__ = [
    "wallet_create",
    "default_wallet_ensure",
    "wallet_member_add",
    "wallet_set_status",
    "wallet_close",
    "wallet_close_by_staff",
    "owner_wallets_close",
    "spend_reserve",
    "spend_release",
    "receive_check",
    "transfer_create",
    "transfer_review_decide",
    "wallet_invitation_create",
    "wallet_invitation_answer",
    "wallet_member_update",
    "wallet_member_remove",
    "money_request_create",
    "money_request_accept",
    "money_request_decline",
    "money_request_cancel",
    "MONEY_REQUESTS_EXPIRE_JOB",
    "money_request_expire",
    "money_requests_expire",
    "AlreadyMember",
    "CurrencyMismatch",
    "DeciderIsParty",
    "InvitationNotFound",
    "InvitationNotPending",
    "LimitExceeded",
    "MemberNotFound",
    "MoneyRequestNotFound",
    "MoneyRequestNotPending",
    "NotAllowedToSend",
    "NotWalletOwner",
    "RecipientNotFound",
    "ReviewAlreadyDecided",
    "RiskDenied",
    "SelfRequest",
    "SelfTransfer",
    "WalletClosed",
    "WalletExists",
    "WalletFrozen",
    "WalletHasOpenHolds",
    "WalletNotEmpty",
    "WalletNotFound",
    "WalletNotShared",
    "TransferView",
]
