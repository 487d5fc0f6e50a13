import pytest

from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.ledger import services
from apps.ledger.models import Hold, Transaction
from apps.ledger.tests.factories import open_wallet_account

pytestmark = pytest.mark.django_db


def test_postings_holds_and_their_events_get_time_ordered_ids():
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    posted = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(5, "EUR"),
        idempotency_key="ids-1",
    )
    held = services.hold_create(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(5, "EUR"),
        idempotency_key="ids-2",
    )
    assert Transaction.objects.get(pk=posted.transaction_id).id.version == 7
    assert Hold.objects.get(pk=held.hold_id).id.version == 7
    events = OutboxEvent.objects.filter(
        type__in=["ledger.transaction_posted", "ledger.hold_created"]
    )
    assert events.count() >= 2
    assert {event.id.version for event in events} == {7}
