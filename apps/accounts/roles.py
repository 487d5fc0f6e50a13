"""Staff roles: Django groups with the permissions each job needs (ensured by a data migration
and by `manage.py accounts_bootstrap`)."""

from __future__ import annotations

COMPLIANCE, OPERATIONS, SUPPORT = "compliance", "operations", "support"
ROLES = (COMPLIANCE, OPERATIONS, SUPPORT)

_READ_CUSTOMERS = [
    "accounts.view_user",
    "wallets.view_wallet",
    "wallets.view_walletmember",
    "wallets.view_walletstatuschange",
    "wallets.view_walletmemberchange",
    "wallets.view_walletinvitation",
    "wallets.view_moneyrequest",
    "wallets.view_transfer",
    "kyc.view_customertier",
    "notifications.view_delivery",  # "I never got the e-mail": codes are redacted once sent
    "notifications.view_notification",
]
# app_label.codename; codenames of apps that are not built yet are skipped until they exist.
PERMISSIONS: dict[str, list[str]] = {
    COMPLIANCE: [
        *_READ_CUSTOMERS,
        "kyc.review_case",
        "kyc.legal_hold",  # set / lift; retention skips held customers
        "kyc.view_case",
        "kyc.view_screeninghit",
        "kyc.view_profile",
        "kyc.view_document",
        "kyc.view_watchlistentry",
        "kyc.add_watchlistentry",
        "kyc.change_watchlistentry",
        "kyc.view_tier",
        "kyc.view_tierlimit",
        "ledger.view_account",
        "ledger.view_transaction",
        "ledger.view_entry",
        "ledger.view_adjustment",
        "ledger.approve_adjustment",
        "ledger.view_reversal",
        "ledger.approve_reversal",  # the checker of a reversal operations proposed
        "wallets.change_wallet",  # freeze / unfreeze / close
        "wallets.change_walletmember",  # change or remove shared-wallet members, with a reason
        "payments.view_payment",
        "payments.view_paymentevent",  # the payment's timeline
        "payments.view_riskreview",
        "payments.change_riskreview",  # decide risk reviews
        "core.view_risklimit",
        "core.add_risklimit",
        "core.change_risklimit",  # risk thresholds, audited
        "payments.view_fundingsource",
    ],
    OPERATIONS: [
        *_READ_CUSTOMERS,
        "wallets.change_wallet",
        "wallets.change_walletmember",
        "ledger.view_account",
        "ledger.view_transaction",
        "ledger.view_entry",
        "ledger.view_adjustment",
        "ledger.add_adjustment",
        "ledger.view_reversal",
        "ledger.add_reversal",  # propose; compliance approves
        "ledger.view_verificationreport",
        "core.view_outboxevent",
        "accounts.view_apikey",
        "accounts.add_apikey",  # machine credentials for services and partners
        "accounts.change_apikey",  # revoke, roll
        "core.view_idempotencyrecord",
        "core.view_jobfailure",
        "core.change_jobfailure",  # "retry now" on a record a beat job failed on
        "payments.view_payment",
        "payments.view_paymentevent",  # the payment's timeline, beside what the bank says
        "payments.view_webhookevent",
        "payments.view_manualaction",
        "payments.add_manualaction",  # propose a compensation
        "payments.approve_manualaction",  # approve another's (never one's own)
        "payments.view_fundingsource",
        "reports.view_reconciliationrun",
        "reports.view_break",
        "reports.change_break",
        "reports.view_settlementline",
        "reports.add_settlementline",  # upload a settlement report
        "reports.change_settlementline",
        "webhooks.view_endpoint",
        "webhooks.add_endpoint",
        "webhooks.change_endpoint",  # disable, enable, rotate the secret, send a test event
        "webhooks.view_delivery",
        "webhooks.change_delivery",  # replay
        "webhooks.view_attempt",
    ],
    SUPPORT: _READ_CUSTOMERS,
}
