"""The domain events an endpoint may subscribe to: the one list the handlers subscribe to,
the services validate against and the admin form offers. Each is sent with its payload as
published (apps/<app>/events.py); `webhooks.ping` is the test event staff send by hand."""

from __future__ import annotations

ALL = "*"
PING = "webhooks.ping"

EVENT_TYPES: dict[str, str] = {
    "payments.payment_succeeded": "A deposit or withdrawal completed.",
    "payments.payment_failed": "A deposit or withdrawal failed.",
    "payments.payment_in_review": "A payment is held for a risk review.",
    "wallets.wallet_created": "A wallet was opened.",
    "wallets.wallet_status_changed": "A wallet was frozen, unfrozen or closed.",
    "wallets.transfer_completed": "A wallet-to-wallet transfer completed.",
    "wallets.transfer_in_review": "A wallet-to-wallet transfer is held for a review.",
    "wallets.transfer_review_approved": "A held transfer was approved and sent.",
    "wallets.transfer_review_declined": "A held transfer was declined.",
    "wallets.money_requested": "A customer asked another for money.",
    "wallets.money_request_closed": "A money request was paid, declined, cancelled or expired.",
    "kyc.submitted": "A customer submitted a verification case.",
    "kyc.approved": "A verification case was approved.",
    "kyc.rejected": "A verification case was rejected.",
    "kyc.tier_changed": "A customer's verification tier changed.",
    "ledger.transaction_posted": "A ledger transaction was posted.",
    "ledger.transaction_reversed": "A ledger transaction was reversed.",
    "ledger.hold_created": "Funds were put on hold.",
    "ledger.hold_posted": "A hold was captured into a transaction.",
    "ledger.hold_voided": "A hold was released (voided or expired).",
    "accounts.user_created": "A customer signed up.",
    "accounts.user_closed": "A customer closed their account.",
}

# What an endpoint an API key registered may receive: ledger events, each sent only when it
# moves money on an account of the key's namespace (apps.webhooks.services.namespaces_moved).
NAMESPACED = (
    "ledger.transaction_posted",
    "ledger.transaction_reversed",
    "ledger.hold_created",
    "ledger.hold_posted",
    "ledger.hold_voided",
)

# Offered to endpoints and accepted by the services; ping is sent only by hand.
SUBSCRIBABLE = (ALL, *EVENT_TYPES)


def wants(event_types: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to `event_types` gets `event_type` (empty: all)."""
    return event_type == PING or not event_types or ALL in event_types or event_type in event_types
