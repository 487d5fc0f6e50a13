"""Public reads of apps.wallets. Every balance comes from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db.models import F, Q, Sum

from apps.accounts import selectors as accounts_selectors
from apps.core.money import Money
from apps.ledger import selectors as ledger_selectors
from apps.wallets.errors import WalletNotFound as WalletNotFound  # other apps catch it here
from apps.wallets.models import (
    MemberRole,
    MoneyRequest,
    SpendingGate,
    Transfer,
    TransferReview,
    Wallet,
    WalletInvitation,
    WalletMember,
    WalletStatus,
)


@dataclass(frozen=True)
class WalletView:
    id: UUID
    currency: str
    name: str
    status: str
    is_default: bool
    is_shared: bool
    owner_id: int
    role: str  # the viewer's: "owner", "spender" or "viewer"
    balance: ledger_selectors.BalanceView
    created_at: datetime


@dataclass(frozen=True)
class HistoryItem:
    entry_id: int
    transaction_id: UUID
    kind: str
    direction: str  # "in" or "out"
    amount: Money
    balance_after: Money
    counterparty: str
    status: str
    note: str
    posted_at: datetime


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    next_cursor: str | None


def _role(wallet: Wallet, user_id: int) -> str | None:
    if wallet.owner_id == user_id:
        return "owner"
    member = WalletMember.objects.filter(wallet=wallet, user_id=user_id).first()
    return member.role if member else None


def _view(wallet: Wallet, role: str) -> WalletView:
    balance = ledger_selectors.account_balance(account_id=wallet.ledger_account_id)
    return WalletView(
        wallet.id,
        wallet.currency,
        wallet.name,
        wallet.status,
        wallet.is_default,
        wallet.is_shared,
        wallet.owner_id,
        role,
        balance,
        wallet.created_at,
    )


@dataclass(frozen=True, slots=True)
class VisibleWallet:
    """A wallet the user may see; the model stays inside this app (its services use it)."""

    wallet: Wallet
    role: str  # "owner", "spender" or "viewer"


@dataclass(frozen=True, slots=True)
class WalletAccount:
    """What another app needs to read a visible wallet's ledger account."""

    wallet_id: UUID
    currency: str
    ledger_account_id: UUID


def visible_wallet(*, wallet_id: UUID, user_id: int) -> VisibleWallet:
    """The wallet and the user's role on it; another user's wallet is simply not found."""
    wallet = Wallet.objects.filter(pk=wallet_id).first()
    role = _role(wallet, user_id) if wallet else None
    if wallet is None or role is None:
        raise WalletNotFound()
    return VisibleWallet(wallet=wallet, role=role)


def wallet_account(*, wallet_id: UUID, user_id: int) -> WalletAccount:
    """The ledger account behind a wallet the user may see (WalletNotFound otherwise)."""
    wallet = visible_wallet(wallet_id=wallet_id, user_id=user_id).wallet
    return WalletAccount(
        wallet_id=wallet.pk, currency=wallet.currency, ledger_account_id=wallet.ledger_account_id
    )


def wallet_get(*, wallet_id: UUID, user_id: int) -> WalletView:
    visible = visible_wallet(wallet_id=wallet_id, user_id=user_id)
    return _view(visible.wallet, visible.role)


def wallet_list(*, user_id: int, status: str | None = None) -> list[WalletView]:
    """The user's own and shared wallets, closed ones included (their history stays readable);
    `status` narrows to one status."""
    member_of = dict(WalletMember.objects.filter(user_id=user_id).values_list("wallet_id", "role"))
    wallets = Wallet.objects.filter(Q(owner_id=user_id) | Q(pk__in=member_of)).order_by(
        "-is_default", "created_at"
    )
    if status:
        wallets = wallets.filter(status=status)
    return [_view(w, "owner" if w.owner_id == user_id else member_of[w.pk]) for w in wallets]


def wallet_balance_as_of(*, wallet_id: UUID, user_id: int, as_of: datetime) -> Money:
    wallet = visible_wallet(wallet_id=wallet_id, user_id=user_id).wallet
    return ledger_selectors.account_balance_as_of(account_id=wallet.ledger_account_id, as_of=as_of)


def wallet_balance_explain(*, wallet_id: UUID, user_id: int) -> ledger_selectors.BalanceExplanation:
    wallet = visible_wallet(wallet_id=wallet_id, user_id=user_id).wallet
    return ledger_selectors.balance_explain(account_id=wallet.ledger_account_id)


def recipient_wallet_id(*, destination: str, currency: str) -> UUID | None:
    """A wallet id as given, or the personal wallet in the currency of the active user with
    that email or verified phone number (E.164); None if there is no such user or wallet."""
    try:
        return UUID(destination)
    except ValueError:
        pass
    if destination.startswith("+"):
        user = accounts_selectors.user_find_by_phone(phone=destination)
    else:
        user = accounts_selectors.user_find_by_email(email=destination)
    if user is None or not user.is_active:
        return None
    return (
        Wallet.objects.filter(owner_id=user.id, currency=currency, is_shared=False)
        .values_list("pk", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Recipient:
    display_name: str
    currency: str


def recipient_find(*, destination: str, currency: str) -> Recipient | None:
    """Who an e-mail address or phone number would pay, for the sender to confirm the name
    before sending; only open personal wallets are found (a wallet id is not looked up)."""
    try:
        UUID(destination)
    except ValueError:
        pass
    else:
        return None
    wallet_id = recipient_wallet_id(destination=destination, currency=currency)
    wallet = (
        Wallet.objects.filter(pk=wallet_id).exclude(status=WalletStatus.CLOSED).first()
        if wallet_id
        else None
    )
    owner = accounts_selectors.user_get(user_id=wallet.owner_id) if wallet else None
    if wallet is None or owner is None:
        return None
    return Recipient(display_name=owner.display_name, currency=wallet.currency)


_SYSTEM_NAMES = {
    "deposit": "Bank deposit",
    "withdrawal": "Bank withdrawal",
    "fee": "Finstack fee",
    "adjustment": "Finstack adjustment",
    "opening": "Opening balance",
}


def _counterparty_names(account_ids: set[UUID]) -> dict[UUID, str]:
    wallets = {
        w.ledger_account_id: w for w in Wallet.objects.filter(ledger_account_id__in=account_ids)
    }
    owners = accounts_selectors.users_by_id(user_ids={w.owner_id for w in wallets.values()})
    names = {}
    for account_id, wallet in wallets.items():
        owner = owners.get(wallet.owner_id)
        names[account_id] = (
            wallet.name
            if wallet.is_shared and wallet.name
            else (owner.display_name if owner else "")
        )
    return names


def wallet_history(
    *,
    wallet_id: UUID,
    user_id: int,
    cursor: str | None = None,
    limit: int = 50,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: list[str] | None = None,
) -> HistoryPage:
    """Newest first; an invalid cursor raises ValueError."""
    wallet = visible_wallet(wallet_id=wallet_id, user_id=user_id).wallet
    page = ledger_selectors.entries_page(
        account_id=wallet.ledger_account_id,
        cursor=cursor,
        limit=limit,
        since=since,
        until=until,
        kinds=kinds,
    )
    others = {a for e in page.items for a in e.counterparty_account_ids}
    names = _counterparty_names(others)
    items = []
    for e in page.items:
        counterparty = next(
            (names[a] for a in e.counterparty_account_ids if a in names),
            _SYSTEM_NAMES.get(e.kind, "Finstack"),
        )
        items.append(
            HistoryItem(
                e.id,
                e.transaction_id,
                e.kind,
                "in" if e.direction == "C" else "out",
                e.amount,
                e.balance_after,
                counterparty,
                "posted",
                str(e.metadata.get("note", "")),
                e.posted_at,
            )
        )
    return HistoryPage(items, page.next_cursor)


def sent_from_wallet_since(
    *, user_id: int, wallet_id: UUID, currency: str, since: datetime
) -> Money:
    """What a member sent (amounts and fees) from one shared wallet since a moment."""
    sums = Transfer.objects.filter(
        requested_by_id=user_id, source_wallet_id=wallet_id, created_at__gte=since
    ).aggregate(total=Sum(F("amount") + F("fee")))
    return Money(sums["total"] or 0, currency)


@dataclass(frozen=True, slots=True)
class TransferView:
    """A transfer as its parties see it. One held for review carries the review's id until
    it is approved (then the transfer's), and no ledger transaction."""

    id: UUID
    source_wallet: UUID
    destination_wallet: UUID
    amount: int
    fee: int
    currency: str
    note: str
    status: str  # "completed", "review" or "declined"
    created_at: datetime
    ledger_transaction_id: UUID | None


def transfer_get(*, transfer_id: UUID, user_id: int) -> TransferView:
    transfer = (
        Transfer.objects.filter(pk=transfer_id)
        .select_related("source_wallet", "destination_wallet")
        .first()
    )
    if transfer is None or user_id not in (
        transfer.requested_by_id,
        transfer.source_wallet.owner_id,
        transfer.destination_wallet.owner_id,
    ):
        raise WalletNotFound("No such transfer.")
    return transfer_data(transfer)


def transfer_data(transfer: Transfer) -> TransferView:
    return TransferView(
        id=transfer.id,
        source_wallet=transfer.source_wallet_id,
        destination_wallet=transfer.destination_wallet_id,
        amount=transfer.amount,
        fee=transfer.fee,
        currency=transfer.currency,
        note=transfer.note,
        status="completed",
        created_at=transfer.created_at,
        ledger_transaction_id=transfer.ledger_transaction_id,
    )


def transfer_review_data(review: TransferReview) -> TransferView:
    """A transfer held for review, in a transfer's shape: `status` is "review" while
    pending, then "completed" (with the transfer's id) or "declined"."""
    status = {"pending": "review", "approved": "completed"}.get(review.state, review.state)
    return TransferView(
        id=review.transfer_id or review.id,
        source_wallet=review.source_wallet_id,
        destination_wallet=review.destination_wallet_id,
        amount=review.amount,
        fee=review.fee,
        currency=review.currency,
        note=review.note,
        status=status,
        created_at=review.created_at,
        ledger_transaction_id=None,
    )


MEMBER_CAN_SEND = {MemberRole.SPENDER}


def ledger_account_of(*, wallet_id: UUID) -> UUID:
    """The ledger account behind a wallet (for operators' tooling)."""
    account_id = Wallet.objects.filter(pk=wallet_id).values_list("ledger_account_id", flat=True)
    if not account_id:
        raise WalletNotFound()
    return account_id[0]


def spending_of(user_id: int, currency: str) -> tuple[int, int]:
    """What a user sent today and this month (UTC), as counted on their spending gate."""
    gate = SpendingGate.objects.filter(user_id=user_id, currency=currency).first()
    if gate is None:
        return 0, 0
    today = datetime.now(UTC).date()
    return (
        gate.day_total if gate.day == today else 0,
        gate.month_total if gate.month == today.replace(day=1) else 0,
    )


def wallet_accounts() -> list[tuple[UUID, UUID, str]]:
    """Every wallet with its ledger account and currency (for reconciliation)."""
    return list(Wallet.objects.values_list("pk", "ledger_account_id", "currency"))


def _name(user_id: int, names: dict[int, accounts_selectors.UserRef]) -> str:
    user = names.get(user_id)
    return user.display_name if user else ""


def member_data(
    member: WalletMember,
    *,
    wallet: Wallet,
    viewer_id: int,
    names: dict[int, accounts_selectors.UserRef] | None = None,
) -> dict[str, Any]:
    """A member as the API shows it; their daily limit only to the owner and to themselves."""
    names = names or accounts_selectors.users_by_id(user_ids={member.user_id})
    sees_limit = viewer_id in (wallet.owner_id, member.user_id)
    return {
        "id": member.public_id,
        "name": _name(member.user_id, names),
        "role": member.role,
        "daily_limit": member.daily_limit if sees_limit else None,
        "currency": wallet.currency,
        "is_you": member.user_id == viewer_id,
        "joined_at": member.created_at,
    }


def wallet_members_list(*, wallet_id: UUID, user_id: int) -> list[dict[str, Any]]:
    """The owner (first, `id` None, role "owner") and the members, for the owner and members."""
    wallet = visible_wallet(wallet_id=wallet_id, user_id=user_id).wallet
    members = list(WalletMember.objects.filter(wallet=wallet).order_by("created_at", "pk"))
    names = accounts_selectors.users_by_id(
        user_ids={wallet.owner_id, *(m.user_id for m in members)}
    )
    owner = {
        "id": None,
        "name": _name(wallet.owner_id, names),
        "role": "owner",
        "daily_limit": None,
        "currency": wallet.currency,
        "is_you": wallet.owner_id == user_id,
        "joined_at": wallet.created_at,
    }
    return [
        owner,
        *(member_data(m, wallet=wallet, viewer_id=user_id, names=names) for m in members),
    ]


def invitation_data(invitation: WalletInvitation) -> dict[str, Any]:
    wallet = invitation.wallet
    names = accounts_selectors.users_by_id(user_ids={invitation.invited_by_id})
    return {
        "id": invitation.pk,
        "wallet": wallet.pk,
        "wallet_name": wallet.name,
        "invited_by": _name(invitation.invited_by_id, names),
        "contact": invitation.contact,
        "role": invitation.role,
        "daily_limit": invitation.daily_limit,
        "currency": wallet.currency,
        "state": invitation.state,
        "created_at": invitation.created_at,
    }


def invitations_for(*, user_id: int) -> list[dict[str, Any]]:
    """Pending invitations addressed to the user, newest first."""
    pending = (
        WalletInvitation.objects.filter(invitee_id=user_id, state=WalletInvitation.State.PENDING)
        .select_related("wallet")
        .order_by("-created_at")
    )
    return [invitation_data(i) for i in pending]


def money_request_data(
    request: MoneyRequest,
    *,
    viewer_id: int,
    transfer: TransferView | None = None,
    names: dict[int, accounts_selectors.UserRef] | None = None,
) -> dict[str, Any]:
    """A request as either party sees it. The requester sees the contact they typed (never
    whether a customer has it); the payer sees who asks. `transfer` only in an accept's answer."""
    incoming = request.payer_id == viewer_id
    names = names or accounts_selectors.users_by_id(user_ids={request.requester_id})
    return {
        "id": request.pk,
        "direction": "incoming" if incoming else "outgoing",
        "requester": _name(request.requester_id, names),
        "contact": None if incoming else request.contact,
        "wallet": None if incoming else request.destination_wallet_id,
        "amount": request.amount,
        "currency": request.currency,
        "note": request.note,
        "state": request.state,
        "expires_at": request.expires_at,
        "created_at": request.created_at,
        "decided_at": request.decided_at,
        "transfer_id": request.transfer_id,
        "transfer": transfer,
    }


def money_request_list(
    *, user_id: int, direction: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """Requests the user made (outgoing) and those addressed to them (incoming), newest first;
    at most the 200 newest."""
    parties = {
        "incoming": Q(payer_id=user_id),
        "outgoing": Q(requester_id=user_id),
        None: Q(payer_id=user_id) | Q(requester_id=user_id),
    }[direction]
    requests = MoneyRequest.objects.filter(parties).order_by("-created_at")
    if state:
        requests = requests.filter(state=state)
    rows = list(requests[:200])
    names = accounts_selectors.users_by_id(user_ids={r.requester_id for r in rows})
    return [money_request_data(r, viewer_id=user_id, names=names) for r in rows]
