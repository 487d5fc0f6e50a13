from apps.core.events import subscribe
from apps.ledger.events import TransactionPosted
from apps.reports import services


@subscribe(TransactionPosted)
def count_transaction(event: TransactionPosted) -> None:
    services.transaction_count(
        transaction_id=event.transaction_id,
        kind=event.kind,
        effective_at=event.effective_at,
        legs=event.legs,
    )
