"""Money requests: one user asks, the other pays (a transfer) or declines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core import batch
from apps.core.events import publish
from apps.core.money import Money
from apps.wallets import selectors
from apps.wallets.errors import (
    MoneyRequestNotFound,
    MoneyRequestNotPending,
    SelfRequest,
    WalletNotFound,
)
from apps.wallets.events import MoneyRequestClosed, MoneyRequested
from apps.wallets.models import MoneyRequest, Wallet
from apps.wallets.services.limits import _owned_open_wallet
from apps.wallets.services.members import _invitee_of
from apps.wallets.services.transfers import transfer_create


def _request_closed(request: MoneyRequest) -> None:
    publish(
        MoneyRequestClosed(
            request_id=str(request.pk),
            requester_id=request.requester_id,
            payer_id=request.payer_id,
            amount=request.amount,
            currency=request.currency,
            state=request.state,
        )
    )


@transaction.atomic
def money_request_create(
    *,
    requester_id: int,
    contact: str,
    amount: Money,
    note: str = "",
    wallet_id: UUID | None = None,
) -> dict[str, Any]:
    """Ask the customer with that e-mail or verified phone for `amount`, paid into the
    requester's wallet (their personal one in the currency unless named). Known or not, the
    requester gets the same answer; only a customer with the contact is told."""
    if wallet_id is None:
        wallet_id = (
            Wallet.objects.filter(owner_id=requester_id, currency=amount.currency, is_shared=False)
            .values_list("pk", flat=True)
            .first()
        )
        if wallet_id is None:
            raise WalletNotFound(f"You have no {amount.currency} wallet to be paid into.")
    _owned_open_wallet(wallet_id, requester_id, amount)
    contact = contact.strip() if contact.startswith("+") else contact.strip().lower()
    payer_id = _invitee_of(contact)
    if payer_id == requester_id:
        raise SelfRequest()
    request = MoneyRequest.objects.create(
        requester_id=requester_id,
        destination_wallet_id=wallet_id,
        contact=contact,
        payer_id=payer_id,
        amount=amount.amount,
        currency=amount.currency,
        note=note[:200],
        expires_at=timezone.now() + timedelta(days=settings.WALLETS_MONEY_REQUEST_DAYS),
    )
    if payer_id is not None:
        publish(
            MoneyRequested(
                request_id=str(request.pk),
                requester_id=requester_id,
                payer_id=payer_id,
                amount=amount.amount,
                currency=amount.currency,
                note=request.note,
            )
        )
    return selectors.money_request_data(request, viewer_id=requester_id)


def _request_for_update(request_id: UUID, user_id: int, as_payer: bool) -> MoneyRequest:
    party = {"payer_id": user_id} if as_payer else {"requester_id": user_id}
    request = MoneyRequest.objects.select_for_update().filter(pk=request_id, **party).first()
    if request is None:
        raise MoneyRequestNotFound()
    return request


def _ensure_pending(request: MoneyRequest) -> None:
    if request.state == MoneyRequest.State.PENDING and request.expires_at <= timezone.now():
        raise MoneyRequestNotPending(state=MoneyRequest.State.EXPIRED)
    if request.state != MoneyRequest.State.PENDING:
        raise MoneyRequestNotPending(state=request.state)


@transaction.atomic
def money_request_accept(
    *, request_id: UUID, payer_id: int, source_wallet_id: UUID | None = None
) -> dict[str, Any]:
    """The payer pays the request with an ordinary P2P transfer (all of its rules: limits,
    risk, wallet states; its refusals come back as they are and nothing moves). The transfer's
    business key is the request's, so accepting again pays nothing more and answers the same.

    Lock order: the request, then the transfer's (the payer's spending gate, the ledger)."""
    request = _request_for_update(request_id, payer_id, as_payer=True)
    if request.state == MoneyRequest.State.ACCEPTED:
        return selectors.money_request_data(request, viewer_id=payer_id)
    _ensure_pending(request)
    if source_wallet_id is None:
        source_wallet_id = (
            Wallet.objects.filter(owner_id=payer_id, currency=request.currency, is_shared=False)
            .values_list("pk", flat=True)
            .first()
        )
        if source_wallet_id is None:
            raise WalletNotFound(f"You have no {request.currency} wallet to pay from.")
    transfer = transfer_create(
        source_wallet_id=source_wallet_id,
        destination=str(request.destination_wallet_id),
        amount=Money(request.amount, request.currency),
        requested_by_id=payer_id,
        idempotency_key=f"money-request:{request.pk}",
        note=request.note,
    )
    request.state, request.decided_at = MoneyRequest.State.ACCEPTED, timezone.now()
    request.transfer_id = transfer.id
    request.save(update_fields=["state", "decided_at", "transfer_id"])
    _request_closed(request)
    return selectors.money_request_data(request, viewer_id=payer_id, transfer=transfer)


@transaction.atomic
def money_request_decline(*, request_id: UUID, payer_id: int) -> dict[str, Any]:
    return _money_request_end(request_id, payer_id, True, MoneyRequest.State.DECLINED)


@transaction.atomic
def money_request_cancel(*, request_id: UUID, requester_id: int) -> dict[str, Any]:
    return _money_request_end(request_id, requester_id, False, MoneyRequest.State.CANCELLED)


def _money_request_end(
    request_id: UUID, user_id: int, as_payer: bool, state: str
) -> dict[str, Any]:
    """Decline (payer) or cancel (requester); the same answer again changes nothing."""
    request = _request_for_update(request_id, user_id, as_payer)
    if request.state == state:
        return selectors.money_request_data(request, viewer_id=user_id)
    _ensure_pending(request)
    request.state, request.decided_at = state, timezone.now()
    request.save(update_fields=["state", "decided_at"])
    _request_closed(request)
    return selectors.money_request_data(request, viewer_id=user_id)


MONEY_REQUESTS_EXPIRE_JOB = "wallets.money_requests_expire"


@transaction.atomic
def money_request_expire(*, request_id: UUID) -> bool:
    """Expire one request if it is still pending and due; False if it was not."""
    request = MoneyRequest.objects.select_for_update().get(pk=request_id)
    if request.state != MoneyRequest.State.PENDING or request.expires_at > timezone.now():
        return False
    request.state, request.decided_at = MoneyRequest.State.EXPIRED, timezone.now()
    request.save(update_fields=["state", "decided_at"])
    _request_closed(request)
    return True


def money_requests_expire(*, limit: int = 500) -> int:
    """Expire pending requests past their date (the beat job); returns how many. One that
    fails is kept for people (apps.core.batch), not the rest."""
    due = list(
        MoneyRequest.objects.filter(
            state=MoneyRequest.State.PENDING, expires_at__lte=timezone.now()
        )
        .exclude(pk__in=batch.resting(MONEY_REQUESTS_EXPIRE_JOB))
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = batch.each(
        MONEY_REQUESTS_EXPIRE_JOB,
        due,
        lambda request_id: money_request_expire(request_id=request_id),
    )
    return sum(done.results)
