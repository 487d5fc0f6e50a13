"""Opening, freezing and closing wallets (one's own, by staff, on account closure)."""

from __future__ import annotations

from uuid import UUID, uuid4

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.accounts import services as accounts_services
from apps.core.events import publish
from apps.core.money import Money
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.wallets import selectors
from apps.wallets.errors import (
    CurrencyMismatch,
    NotAllowedToSend,
    NotWalletOwner,
    WalletClosed,
    WalletExists,
    WalletHasOpenHolds,
    WalletNotEmpty,
    WalletNotFound,
)
from apps.wallets.events import WalletCreated, WalletStatusChanged
from apps.wallets.models import (
    MemberRole,
    TransferReview,
    Wallet,
    WalletMember,
    WalletStatus,
    WalletStatusChange,
)


@transaction.atomic
def wallet_create(
    *, owner_id: int, currency: str, name: str = "", shared: bool = False, is_default: bool = False
) -> UUID:
    """Open a wallet backed by a new no-overdraft ledger account."""
    Money(0, currency)  # refuses unknown currencies
    # Money paid into a wallet the ledger has no system accounts for could never be booked.
    ledger_selectors.currency_check(code=currency)
    wallet_id = uuid4()
    account_id = ledger_services.account_create(
        code=f"wallet:{wallet_id}",
        name=name or f"Wallet {currency}",
        type="liability",
        currency=currency,
        owner_type="wallet",
        owner_id=str(wallet_id),
        rule="debits_must_not_exceed_credits",
    )
    try:
        with transaction.atomic():
            Wallet.objects.create(
                id=wallet_id,
                owner_id=owner_id,
                currency=currency,
                name=name,
                is_shared=shared,
                is_default=is_default,
                ledger_account_id=account_id,
            )
    except IntegrityError:
        raise WalletExists(currency=currency) from None
    publish(WalletCreated(wallet_id=str(wallet_id), owner_id=owner_id, currency=currency))
    return wallet_id


def default_wallet_ensure(*, owner_id: int, currency: str) -> UUID:
    """The sign-up wallet; idempotent (an event handled twice opens one wallet)."""
    existing = (
        Wallet.objects.filter(owner_id=owner_id, currency=currency, is_shared=False)
        .values_list("pk", flat=True)
        .first()
    )
    if existing:
        return existing
    return wallet_create(owner_id=owner_id, currency=currency, is_default=True)


@transaction.atomic
def wallet_member_add(
    *,
    wallet_id: UUID,
    owner_id: int,
    member_id: int,
    role: str = MemberRole.SPENDER,
    daily_limit: Money | None = None,
) -> None:
    visible = selectors.visible_wallet(wallet_id=wallet_id, user_id=owner_id)
    wallet = visible.wallet
    if visible.role != "owner" or not wallet.is_shared:
        raise NotAllowedToSend("Only the owner of a shared wallet adds members.")
    if daily_limit is not None and daily_limit.currency != wallet.currency:
        raise CurrencyMismatch()
    WalletMember.objects.update_or_create(
        wallet=wallet,
        user_id=member_id,
        defaults={"role": role, "daily_limit": daily_limit.amount if daily_limit else None},
    )


@transaction.atomic
def wallet_set_status(
    *, wallet_id: UUID, status: str, reason: str, changed_by_id: int | None
) -> None:
    """Freeze, unfreeze or close, with the reason kept; the ledger account follows."""
    if not reason.strip():
        raise ValidationError({"reason": ["A reason is required."]})
    # NO KEY: a transfer being posted to this wallet holds its shard locks and then checks
    # its foreign key on this row; a full row lock here would deadlock the two.
    wallet = Wallet.objects.select_for_update(no_key=True).filter(pk=wallet_id).first()
    if wallet is None:
        raise WalletNotFound()
    if wallet.status == status:
        return
    if wallet.status == WalletStatus.CLOSED:  # closing is final: its account is settled
        raise WalletClosed()
    WalletStatusChange.objects.create(
        wallet=wallet,
        from_status=wallet.status,
        to_status=status,
        reason=reason,
        changed_by_id=changed_by_id,
    )
    ledger_services.account_set_status(account_id=wallet.ledger_account_id, status=status)
    publish(
        WalletStatusChanged(
            wallet_id=str(wallet.pk),
            owner_id=wallet.owner_id,
            from_status=wallet.status,
            to_status=status,
            reason=reason,
        )
    )
    wallet.status = status
    wallet.save(update_fields=["status"])


def _close(wallet_id: UUID, reason: str, changed_by_id: int) -> None:
    """Close, refused while the wallet holds money or has money reserved or on its way.
    Closing first takes the ledger's shard locks, so no posting lands between the checks
    and the closure; a refusal rolls the closure back with the caller's transaction."""
    wallet_set_status(
        wallet_id=wallet_id,
        status=WalletStatus.CLOSED,
        reason=reason,
        changed_by_id=changed_by_id,
    )
    wallet = Wallet.objects.get(pk=wallet_id)
    balance = ledger_selectors.account_balance(account_id=wallet.ledger_account_id)
    in_review = TransferReview.objects.filter(
        Q(source_wallet_id=wallet_id) | Q(destination_wallet_id=wallet_id),
        state=TransferReview.State.PENDING,
    ).count()
    if balance.pending.amount or in_review:
        raise WalletHasOpenHolds(
            pending=balance.pending.amount, transfers_in_review=in_review, currency=wallet.currency
        )
    if balance.posted.amount:
        raise WalletNotEmpty(posted=balance.posted.amount, currency=wallet.currency)


@transaction.atomic
def wallet_close(*, wallet_id: UUID, user_id: int) -> None:
    """The owner closes one of their wallets; closing a closed wallet changes nothing."""
    visible = selectors.visible_wallet(wallet_id=wallet_id, user_id=user_id)
    wallet = visible.wallet
    if visible.role != "owner":
        raise NotWalletOwner()
    if wallet.status != WalletStatus.CLOSED:
        _close(wallet.pk, "closed by the owner", user_id)


@transaction.atomic
def wallet_close_by_staff(*, wallet_id: UUID, staff_id: int, reason: str) -> None:
    """Staff close a wallet with a reason kept in its status trail (same refusals)."""
    if not reason.strip():
        raise ValidationError({"reason": ["A reason is required."]})
    status = Wallet.objects.filter(pk=wallet_id).values_list("status", flat=True).first()
    if status is None:
        raise WalletNotFound()
    if status != WalletStatus.CLOSED:
        _close(wallet_id, reason, staff_id)


def owner_wallets_close(user_id: int) -> None:
    """Close every wallet a user owns, refused while one holds money (account closure runs this
    in its transaction). Closing first takes the ledger's shard locks, so no posting can land
    between the balance check and the closure."""
    for wallet in Wallet.objects.filter(owner_id=user_id).order_by("pk"):
        wallet_set_status(
            wallet_id=wallet.pk,
            status=WalletStatus.CLOSED,
            reason="account closed",
            changed_by_id=user_id,
        )
        balance = ledger_selectors.account_balance(account_id=wallet.ledger_account_id)
        if balance.posted.amount or balance.pending.amount:
            raise accounts_services.AccountNotEmpty(
                wallet_id=str(wallet.pk),
                currency=wallet.currency,
                posted=balance.posted.amount,
                pending=balance.pending.amount,
            )
