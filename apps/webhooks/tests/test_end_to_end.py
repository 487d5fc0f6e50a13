"""Real domain actions (a ledger posting, a P2P transfer) end in signed POSTs at the
receiver."""

import pytest
from django.test import TestCase

from apps.core import signing
from apps.core.money import Money
from apps.ledger.tests.factories import fund, open_wallet_account
from apps.wallets import services as wallet_services
from apps.wallets.tests.factories import make_wallet

pytestmark = pytest.mark.django_db


def test_a_ledger_posting_reaches_the_receiver_signed(receiver, make_endpoint):
    created = make_endpoint(receiver.url, ("ledger.transaction_posted",))
    account_id = open_wallet_account()
    with TestCase.captureOnCommitCallbacks(execute=True):
        transaction_id = fund(account_id, Money(12_345, "EUR"))
    assert receiver.wait_for(1)
    [got] = receiver.received
    signing.verify(got.body, got.headers["Finstack-Signature"], created.secret)
    body = got.json()
    assert body["type"] == "ledger.transaction_posted"
    assert body["data"]["transaction_id"] == str(transaction_id)
    assert body["data"]["kind"] == "opening"
    credit = next(leg for leg in body["data"]["legs"] if leg["direction"] == "C")
    assert (credit["account_id"], credit["amount"], credit["currency"]) == (
        str(account_id),
        12_345,
        "EUR",
    )


def test_a_wallet_transfer_reaches_the_endpoint_that_wants_transfers(receiver, make_endpoint):
    created = make_endpoint(receiver.url, ("wallets.transfer_completed",))
    source = make_wallet(funded=50_000)
    destination = make_wallet()
    with TestCase.captureOnCommitCallbacks(execute=True):
        wallet_services.transfer_create(
            source_wallet_id=source.pk,
            destination=str(destination.pk),
            amount=Money(1_050, "EUR"),
            requested_by_id=source.owner_id,
            idempotency_key="e2e-1",
            note="rent",
        )
    assert receiver.wait_for(1)
    [got] = receiver.received  # the ledger posting under it is not subscribed
    signing.verify(got.body, got.headers["Finstack-Signature"], created.secret)
    data = got.json()["data"]
    assert got.json()["type"] == "wallets.transfer_completed"
    assert (data["source_wallet_id"], data["destination_wallet_id"]) == (
        str(source.pk),
        str(destination.pk),
    )
    assert (data["amount"], data["currency"], data["note"]) == (1_050, "EUR", "rent")
