"""Staff decisions on transfers the risk rules held for review."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.ledger import services as ledger_services
from apps.wallets.errors import DeciderIsParty, ReviewAlreadyDecided
from apps.wallets.events import TransferReviewApproved, TransferReviewDeclined
from apps.wallets.models import Transfer, TransferReview
from apps.wallets.services.limits import spend_release
from apps.wallets.services.transfers import _completed, _p2p_post


@transaction.atomic
def transfer_review_decide(*, review_id: UUID, staff_id: int, approve: bool, note: str = "") -> str:
    """Staff's decision on a held transfer. Approve: the hold is released and the transfer
    posts under its own business key, in this transaction (exactly once; a refusal, e.g. a
    frozen wallet, leaves the hold in place). Decline: the hold is voided, the money is
    available again. Neither party to the transfer may decide it. Returns the new state."""
    review = (
        TransferReview.objects.select_for_update()
        .select_related("source_wallet", "destination_wallet")
        .get(pk=review_id)
    )
    parties = {
        review.requested_by_id,
        review.source_wallet.owner_id,
        review.destination_wallet.owner_id,
    }
    if staff_id in parties:
        raise DeciderIsParty()
    if review.state != TransferReview.State.PENDING:
        raise ReviewAlreadyDecided(state=review.state)
    amount, fee = Money(review.amount, review.currency), Money(review.fee, review.currency)
    if approve:
        review.transfer = _review_post(review, amount, fee, staff_id)
        review.state = TransferReview.State.APPROVED
        publish(
            TransferReviewApproved(
                review_id=str(review.pk),
                transfer_id=str(review.transfer.pk),
                sender_id=review.requested_by_id,
                decided_by_id=staff_id,
            )
        )
    else:
        # The gate before the ledger's locks, the order transfer_create takes them in.
        spend_release(
            user_id=review.requested_by_id, amount=amount + fee, counted_on=review.created_at
        )
        ledger_services.hold_void(hold_id=review.hold_id)
        review.state = TransferReview.State.DECLINED
        publish(
            TransferReviewDeclined(
                review_id=str(review.pk), sender_id=review.requested_by_id, decided_by_id=staff_id
            )
        )
    review.decided_by_id, review.decided_at = staff_id, timezone.now()
    review.decision_note = note[:300]
    review.save()
    return str(review.state)


def _review_post(review: TransferReview, amount: Money, fee: Money, staff_id: int) -> Transfer:
    """The approved transfer: the same legs, ceiling and fee as one that passed at once."""
    wallet, target = review.source_wallet, review.destination_wallet
    ledger_services.hold_void(hold_id=review.hold_id)
    recipient_max = kyc_selectors.limits_for(
        user_id=target.owner_id, currency=amount.currency
    ).max_balance
    # A refusal rolls back the hold's void with the rest: the hold stays.
    posting = _p2p_post(
        wallet,
        target,
        amount,
        fee,
        recipient_max,
        ledger_key=review.ledger_key,
        note=review.note,
        created_by=f"staff:{staff_id}",
        metadata={"review": str(review.pk)},
    )
    transfer = Transfer.objects.create(
        source_wallet_id=wallet.pk,
        destination_wallet_id=target.pk,
        amount=amount.amount,
        fee=fee.amount,
        currency=amount.currency,
        note=review.note,
        requested_by_id=review.requested_by_id,
        ledger_transaction_id=posting.transaction_id,
    )
    publish(_completed(transfer, recipient_id=target.owner_id))
    return transfer
