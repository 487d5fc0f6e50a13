"""Shared wallets: invitations, members, their roles and daily limits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.core.events import publish
from apps.core.money import Money
from apps.wallets import selectors
from apps.wallets.errors import (
    AlreadyMember,
    CurrencyMismatch,
    InvitationNotFound,
    InvitationNotPending,
    MemberNotFound,
    NotWalletOwner,
    WalletClosed,
    WalletNotFound,
    WalletNotShared,
)
from apps.wallets.events import (
    WalletInvitationAnswered,
    WalletMemberChanged,
    WalletMemberInvited,
    WalletMemberRemoved,
)
from apps.wallets.models import (
    MemberRole,
    Wallet,
    WalletInvitation,
    WalletMember,
    WalletMemberChange,
    WalletStatus,
)


def _shared_wallet_for_update(wallet_id: UUID, user_id: int | None) -> tuple[Wallet, str]:
    """The shared wallet, locked (member changes of one wallet go one at a time), and the
    user's role on it; None as user: staff, who see every wallet."""
    wallet = Wallet.objects.select_for_update().filter(pk=wallet_id).first()
    if wallet is None:
        raise WalletNotFound()
    role = "staff"
    if user_id is not None:
        role = selectors.visible_wallet(wallet_id=wallet_id, user_id=user_id).role
    if not wallet.is_shared:
        raise WalletNotShared()
    return wallet, role


def _limit_of(wallet: Wallet, daily_limit: Money | None) -> int | None:
    if daily_limit is None:
        return None
    if daily_limit.currency != wallet.currency:
        raise CurrencyMismatch(wallet_currency=wallet.currency, currency=daily_limit.currency)
    return daily_limit.amount


def _invitee_of(contact: str) -> int | None:
    user = (
        accounts_selectors.user_find_by_phone(phone=contact)
        if contact.startswith("+")
        else accounts_selectors.user_find_by_email(email=contact)
    )
    return user.id if user is not None and user.is_active else None


@transaction.atomic
def wallet_invitation_create(
    *,
    wallet_id: UUID,
    owner_id: int,
    contact: str,
    role: str = MemberRole.SPENDER,
    daily_limit: Money | None = None,
) -> dict[str, Any]:
    """Invite someone by e-mail or verified phone (+E.164). Known or not, the owner gets the
    same answer; only a customer with that contact is told. Inviting the same contact again
    while an invitation is pending answers that invitation."""
    wallet, role_of_caller = _shared_wallet_for_update(wallet_id, owner_id)
    if role_of_caller != "owner":
        raise NotWalletOwner()
    if wallet.status == WalletStatus.CLOSED:
        raise WalletClosed()
    limit = _limit_of(wallet, daily_limit)
    contact = contact.strip() if contact.startswith("+") else contact.strip().lower()
    invitee_id = _invitee_of(contact)
    if invitee_id == owner_id:
        raise AlreadyMember("You own this wallet.")
    if invitee_id and WalletMember.objects.filter(wallet=wallet, user_id=invitee_id).exists():
        raise AlreadyMember()
    pending = WalletInvitation.objects.filter(
        wallet=wallet, contact=contact, state=WalletInvitation.State.PENDING
    ).first()
    if pending is not None:
        return selectors.invitation_data(pending)
    invitation = WalletInvitation.objects.create(
        wallet=wallet,
        invited_by_id=owner_id,
        contact=contact,
        invitee_id=invitee_id,
        role=role,
        daily_limit=limit,
    )
    if invitee_id is not None:
        publish(
            WalletMemberInvited(
                invitation_id=str(invitation.pk),
                wallet_id=str(wallet.pk),
                wallet_name=wallet.name,
                owner_id=owner_id,
                invitee_id=invitee_id,
                role=role,
            )
        )
    return selectors.invitation_data(invitation)


@transaction.atomic
def wallet_invitation_answer(*, invitation_id: UUID, user_id: int, accept: bool) -> dict[str, Any]:
    """The invitee accepts (becomes a member with the invited role and limit) or declines.
    Giving the same answer again changes nothing; the other answer is refused."""
    wallet_id = (
        WalletInvitation.objects.filter(pk=invitation_id, invitee_id=user_id)
        .values_list("wallet_id", flat=True)
        .first()
    )
    if wallet_id is None:
        raise InvitationNotFound()
    wallet = Wallet.objects.select_for_update().get(pk=wallet_id)  # the wallet, then its rows
    invitation = WalletInvitation.objects.select_for_update().get(pk=invitation_id)
    wanted = WalletInvitation.State.ACCEPTED if accept else WalletInvitation.State.DECLINED
    if invitation.state == wanted:
        return selectors.invitation_data(invitation)
    if invitation.state != WalletInvitation.State.PENDING:
        raise InvitationNotPending(state=invitation.state)
    if accept:
        if wallet.status == WalletStatus.CLOSED:
            raise WalletClosed()
        member, created = WalletMember.objects.get_or_create(
            wallet=wallet,
            user_id=user_id,
            defaults={"role": invitation.role, "daily_limit": invitation.daily_limit},
        )
        if created:
            _member_trail(member, WalletMemberChange.Action.JOINED, user_id, "")
    invitation.state, invitation.decided_at = wanted, timezone.now()
    invitation.save(update_fields=["state", "decided_at"])
    publish(
        WalletInvitationAnswered(
            invitation_id=str(invitation.pk),
            wallet_id=str(wallet.pk),
            wallet_name=wallet.name,
            owner_id=wallet.owner_id,
            invitee_id=user_id,
            accepted=accept,
        )
    )
    return selectors.invitation_data(invitation)


def _member_trail(member: WalletMember, action: str, changed_by_id: int, reason: str) -> None:
    WalletMemberChange.objects.create(
        wallet_id=member.wallet_id,
        user_id=member.user_id,
        action=action,
        role="" if action in ("removed", "left") else member.role,
        daily_limit=None if action in ("removed", "left") else member.daily_limit,
        reason=reason,
        changed_by_id=changed_by_id,
    )


def _staff_reason(by_staff: bool, reason: str) -> None:
    if by_staff and not reason.strip():
        raise ValidationError({"reason": ["A reason is required."]})


_UNCHANGED: Any = object()


@transaction.atomic
def wallet_member_update(
    *,
    wallet_id: UUID,
    member_id: UUID,
    changed_by_id: int,
    role: str | None = None,
    daily_limit: Money | None = _UNCHANGED,
    by_staff: bool = False,
    reason: str = "",
) -> dict[str, Any]:
    """The owner (or staff, with a reason) changes a member's role or daily limit
    (`daily_limit=None`: only the tier's limits apply)."""
    _staff_reason(by_staff, reason)
    wallet, role_of_caller = _shared_wallet_for_update(
        wallet_id, None if by_staff else changed_by_id
    )
    if role_of_caller not in ("owner", "staff"):
        raise NotWalletOwner()
    member = WalletMember.objects.filter(public_id=member_id, wallet=wallet).first()
    if member is None:
        raise MemberNotFound()
    if role is not None:
        member.role = role
    if daily_limit is not _UNCHANGED:
        member.daily_limit = _limit_of(wallet, daily_limit)
    member.full_clean()
    member.save(update_fields=["role", "daily_limit"])
    _member_trail(member, WalletMemberChange.Action.CHANGED, changed_by_id, reason)
    publish(
        WalletMemberChanged(
            wallet_id=str(wallet.pk),
            wallet_name=wallet.name,
            owner_id=wallet.owner_id,
            user_id=member.user_id,
            role=member.role,
            daily_limit=member.daily_limit,
            currency=wallet.currency,
            by_staff=by_staff,
        )
    )
    return selectors.member_data(member, wallet=wallet, viewer_id=wallet.owner_id)


@transaction.atomic
def wallet_member_remove(
    *,
    wallet_id: UUID,
    member_id: UUID,
    changed_by_id: int,
    by_staff: bool = False,
    reason: str = "",
) -> None:
    """The owner (or staff, with a reason) removes a member, or a member leaves (their own
    row). What they sent stays in the wallet's history."""
    _staff_reason(by_staff, reason)
    wallet, role_of_caller = _shared_wallet_for_update(
        wallet_id, None if by_staff else changed_by_id
    )
    member = WalletMember.objects.filter(public_id=member_id, wallet=wallet).first()
    if member is None:
        raise MemberNotFound()
    left = member.user_id == changed_by_id and not by_staff
    if role_of_caller not in ("owner", "staff") and not left:
        raise NotWalletOwner()
    action = WalletMemberChange.Action.LEFT if left else WalletMemberChange.Action.REMOVED
    _member_trail(member, action, changed_by_id, reason)
    member.delete()
    publish(
        WalletMemberRemoved(
            wallet_id=str(wallet.pk),
            wallet_name=wallet.name,
            owner_id=wallet.owner_id,
            user_id=member.user_id,
            left=left,
            by_staff=by_staff,
        )
    )
