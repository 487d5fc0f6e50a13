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
    KycWithdrawn,
    ScreeningMatchConfirmed,
    TierChanged,
)
from apps.notifications import services
from apps.payments.events import PaymentFailed, PaymentInReview, PaymentSucceeded
from apps.wallets.events import (
    MoneyRequestClosed,
    MoneyRequested,
    TransferCompleted,
    WalletInvitationAnswered,
    WalletMemberChanged,
    WalletMemberInvited,
    WalletMemberRemoved,
    WalletStatusChanged,
)


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


def _name_of(user_id: int) -> str:
    user = accounts_selectors.users_by_id(user_ids={user_id}).get(user_id)
    return user.display_name if user else ""


@subscribe(WalletMemberInvited)
def wallet_invitation(event: WalletMemberInvited) -> None:
    _notify(
        event.invitee_id,
        "wallet_invitation",
        owner=_name_of(event.owner_id),
        wallet=event.wallet_name,
        role=event.role,
    )


@subscribe(WalletInvitationAnswered)
def wallet_invitation_answered(event: WalletInvitationAnswered) -> None:
    _notify(
        event.owner_id,
        "wallet_invitation_answered",
        invitee=_name_of(event.invitee_id),
        wallet=event.wallet_name,
        accepted=event.accepted,
    )


@subscribe(WalletMemberChanged)
def wallet_member_changed(event: WalletMemberChanged) -> None:
    limit = None if event.daily_limit is None else Money(event.daily_limit, event.currency)
    _notify(
        event.user_id,
        "wallet_member_changed",
        wallet=event.wallet_name,
        role=event.role,
        daily_limit=limit,
    )


@subscribe(WalletMemberRemoved)
def wallet_member_removed(event: WalletMemberRemoved) -> None:
    if event.left:  # the owner hears who left
        _notify(
            event.owner_id,
            "wallet_member_removed",
            wallet=event.wallet_name,
            member=_name_of(event.user_id),
            left=True,
        )
    else:
        _notify(event.user_id, "wallet_member_removed", wallet=event.wallet_name, left=False)


@subscribe(MoneyRequested)
def money_requested(event: MoneyRequested) -> None:
    _notify(
        event.payer_id,
        "money_request",
        requester=_name_of(event.requester_id),
        amount=Money(event.amount, event.currency),
        note=event.note,
    )


@subscribe(MoneyRequestClosed)
def money_request_closed(event: MoneyRequestClosed) -> None:
    amount = Money(event.amount, event.currency)
    if event.state == "cancelled":
        if event.payer_id is not None:  # the payer is told it is no longer asked of them
            _notify(
                event.payer_id,
                "money_request_closed",
                state=event.state,
                amount=amount,
                other=_name_of(event.requester_id),
            )
        return
    other = _name_of(event.payer_id) if event.payer_id is not None else ""
    _notify(
        event.requester_id, "money_request_closed", state=event.state, amount=amount, other=other
    )


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


@subscribe(KycWithdrawn)
def kyc_withdrawn(event: KycWithdrawn) -> None:
    _notify(event.user_id, "kyc_withdrawn")


@subscribe(ScreeningMatchConfirmed)
def on_screening_match(event: ScreeningMatchConfirmed) -> None:
    """Compliance hears of every confirmed watch-list match; the customer only sees their
    verification level drop (kyc_tier_changed), never the list."""
    services.staff_alert(
        role="compliance",
        kind="kyc_screening_match",
        context={"user_id": event.user_id, "hit_id": event.hit_id, "list_name": event.list_name},
    )


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
