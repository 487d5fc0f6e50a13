"""What Finstack tells its users: each kind of message, its category and channels.

Critical kinds (security, codes, money movement) ignore preferences. The words live in
templates/notifications/<kind>.txt (and <kind>.<language>.txt)."""

from __future__ import annotations

from dataclasses import dataclass

EMAIL, SMS, PUSH, IN_APP = "email", "sms", "push", "in_app"
CHANNELS = (EMAIL, SMS, PUSH, IN_APP)
SECURITY, MONEY, ACCOUNT, KYC, MARKETING = "security", "money", "account", "kyc", "marketing"
CATEGORIES = (SECURITY, MONEY, ACCOUNT, KYC, MARKETING)


@dataclass(frozen=True)
class Kind:
    category: str
    channels: tuple[str, ...]
    critical: bool = False


KINDS: dict[str, Kind] = {
    "welcome": Kind(ACCOUNT, (EMAIL, IN_APP)),
    "new_device_login": Kind(SECURITY, (EMAIL, PUSH, IN_APP), critical=True),
    "password_changed": Kind(SECURITY, (EMAIL, IN_APP), critical=True),
    "mfa_changed": Kind(SECURITY, (EMAIL, IN_APP), critical=True),
    "money_received": Kind(MONEY, (PUSH, IN_APP, EMAIL), critical=True),
    "transfer_sent": Kind(MONEY, (PUSH, IN_APP), critical=True),
    "large_transaction": Kind(SECURITY, (EMAIL, SMS, PUSH), critical=True),
    "wallet_frozen": Kind(ACCOUNT, (EMAIL, IN_APP), critical=True),
    "wallet_invitation": Kind(ACCOUNT, (EMAIL, PUSH, IN_APP)),  # to the invitee
    "wallet_invitation_answered": Kind(ACCOUNT, (PUSH, IN_APP)),  # to the owner
    "wallet_member_changed": Kind(ACCOUNT, (PUSH, IN_APP)),  # to the member
    "wallet_member_removed": Kind(ACCOUNT, (PUSH, IN_APP, EMAIL)),  # member, or owner if left
    "money_request": Kind(MONEY, (PUSH, IN_APP, EMAIL)),  # to the payer
    "money_request_closed": Kind(
        MONEY, (PUSH, IN_APP)
    ),  # answered/expired: requester; cancelled: payer
    "deposit_succeeded": Kind(MONEY, (PUSH, IN_APP, EMAIL), critical=True),
    "deposit_failed": Kind(MONEY, (PUSH, IN_APP, EMAIL), critical=True),
    "withdrawal_succeeded": Kind(MONEY, (PUSH, IN_APP, EMAIL), critical=True),
    "withdrawal_failed": Kind(MONEY, (PUSH, IN_APP, EMAIL), critical=True),
    "payment_in_review": Kind(MONEY, (IN_APP, EMAIL)),
    "kyc_tier_changed": Kind(KYC, (EMAIL, PUSH, IN_APP)),
    "kyc_submitted": Kind(KYC, (IN_APP, EMAIL)),
    "kyc_approved": Kind(KYC, (EMAIL, PUSH, IN_APP)),
    "kyc_rejected": Kind(KYC, (EMAIL, IN_APP), critical=True),
    "kyc_resubmission": Kind(KYC, (EMAIL, PUSH, IN_APP), critical=True),
    "kyc_documents_expiring": Kind(KYC, (EMAIL, IN_APP), critical=True),
    "kyc_withdrawn": Kind(KYC, (IN_APP, EMAIL)),
    "account_closed": Kind(ACCOUNT, (EMAIL,), critical=True),
    "reconciliation_breaks": Kind(SECURITY, (EMAIL, IN_APP), critical=True),  # to operations
    "task_dead_lettered": Kind(SECURITY, (EMAIL, IN_APP), critical=True),  # to operations
    "job_item_failed": Kind(SECURITY, (EMAIL, IN_APP), critical=True),  # to operations
    "webhook_endpoint_disabled": Kind(SECURITY, (EMAIL, IN_APP), critical=True),  # operations
    # To compliance only: telling the customer would tip them off.
    "kyc_screening_match": Kind(SECURITY, (EMAIL, IN_APP), critical=True),
    # allauth's own mails (codes, notices): e-mail only, always sent.
    "account_mail": Kind(SECURITY, (EMAIL,), critical=True),
    "phone_code": Kind(SECURITY, (SMS,), critical=True),
}
