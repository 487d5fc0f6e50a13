"""Event → notification rules. Each handler runs once per event (outbox), and notify() keeps
at most one message per (event, user, channel, kind) besides."""

from __future__ import annotations

from django.conf import settings

from apps.accounts import selectors as accounts_selectors
from apps.accounts.events import (
    MfaChanged,
    NewDeviceLogin,
    PasswordChanged,
    UserClosed,
    UserCreated,
)
from apps.core import context
from apps.core.events import JobItemFailed, TaskDeadLettered, subscribe
from apps.core.money import Money
from apps.kyc.events import (
    KycApproved,
    KycDocumentsExpiring,
    KycRejected,
    KycResubmissionRequested,
    KycSubmitted,
    TierChanged,
)
from apps.notifications import services
from apps.payments.events import PaymentFailed, PaymentInReview, PaymentSucceeded
from apps.wallets.events import TransferCompleted, WalletStatusChanged


def _notify(user_id: int, kind: str, **values: object) -> None:
    services.notify(user_id=user_id, kind=kind, context=values, event_id=context.event_id.get())


@subscribe(UserCreated)
def welcome(event: UserCreated) -> None:
    _notify(event.user_id, "welcome")


@subscribe(NewDeviceLogin)
def new_device(event: NewDeviceLogin) -> None:
    _notify(event.user_id, "new_device_login", device=event.device, ip=event.ip)


@subscribe(PasswordChanged)
def password_changed(event: PasswordChanged) -> None:
    _notify(event.user_id, "password_changed", how=event.how)


@subscribe(MfaChanged)
def mfa_changed(event: MfaChanged) -> None:
    turned_on = event.change.endswith("added") or event.change.endswith("reset")
    _notify(event.user_id, "mfa_changed", change=event.change, turned_on=turned_on)


@subscribe(UserClosed)
def account_closed(event: UserClosed) -> None:
    _notify(event.user_id, "account_closed")


@subscribe(TransferCompleted)
def transfer(event: TransferCompleted) -> None:
    amount = Money(event.amount, event.currency)
    names = accounts_selectors.users_by_id(user_ids={event.sender_id, event.recipient_id})
    sender, recipient = names[event.sender_id], names[event.recipient_id]
    _notify(
        event.recipient_id,
        "money_received",
        amount=amount,
        sender=sender.display_name,
        note=event.note,
    )
    _notify(
        event.sender_id,
        "transfer_sent",
        amount=amount,
        recipient=recipient.display_name,
        fee=Money(event.fee, event.currency),
    )
    threshold = settings.NOTIFICATIONS_LARGE_AMOUNT.get(event.currency)
    if threshold is not None and event.amount >= threshold:
        _notify(
            event.sender_id, "large_transaction", amount=amount, recipient=recipient.display_name
        )


@subscribe(WalletStatusChanged)
def wallet_frozen(event: WalletStatusChanged) -> None:
    if event.to_status == "frozen":
        _notify(event.owner_id, "wallet_frozen")  # the staff reason is internal: not quoted


@subscribe(TierChanged)
def tier_changed(event: TierChanged) -> None:
    _notify(
        event.user_id,
        "kyc_tier_changed",
        level=event.to_level,
        raised=event.to_level > event.from_level,
    )


@subscribe(PaymentSucceeded)
def payment_succeeded(event: PaymentSucceeded) -> None:
    _notify(
        event.user_id, f"{event.direction}_succeeded", amount=Money(event.amount, event.currency)
    )


@subscribe(PaymentFailed)
def payment_failed(event: PaymentFailed) -> None:
    _notify(
        event.user_id,
        f"{event.direction}_failed",
        amount=Money(event.amount, event.currency),
        reason=event.reason,
    )


@subscribe(PaymentInReview)
def payment_in_review(event: PaymentInReview) -> None:
    _notify(event.user_id, "payment_in_review")


@subscribe(KycSubmitted)
def kyc_submitted(event: KycSubmitted) -> None:
    _notify(event.user_id, "kyc_submitted", tier=event.target_tier)


@subscribe(KycApproved)
def kyc_approved(event: KycApproved) -> None:
    _notify(event.user_id, "kyc_approved", tier=event.tier)


@subscribe(KycRejected)
def kyc_rejected(event: KycRejected) -> None:
    _notify(event.user_id, "kyc_rejected", message=event.message)


@subscribe(KycResubmissionRequested)
def kyc_resubmission(event: KycResubmissionRequested) -> None:
    _notify(event.user_id, "kyc_resubmission", messages=event.messages)


@subscribe(KycDocumentsExpiring)
def kyc_documents_expiring(event: KycDocumentsExpiring) -> None:
    _notify(event.user_id, "kyc_documents_expiring", expires_on=event.expires_on)


@subscribe(TaskDeadLettered)
def on_task_dead_lettered(event: TaskDeadLettered) -> None:
    services.staff_alert(
        role="operations",
        kind="task_dead_lettered",
        context={"task": event.task, "reason": event.reason, "deliveries": event.deliveries},
    )


@subscribe(JobItemFailed)
def on_job_item_failed(event: JobItemFailed) -> None:
    services.staff_alert(
        role="operations",
        kind="job_item_failed",
        context={"job": event.job, "item": event.item, "error": event.error},
    )
