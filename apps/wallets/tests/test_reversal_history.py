import pytest

from apps.core.money import Money
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.wallets import services
from apps.wallets.models import Transfer
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db


def posted(wallet) -> int:
    return ledger_selectors.account_balance(account_id=wallet.ledger_account_id).posted.amount


def test_a_reversed_p2p_transfer_shows_on_both_wallets_histories(auth_client):
    alice, bob = make_user(first_name="Alice"), make_user(first_name="Bob")
    a, b = make_wallet(alice, funded=1_000), make_wallet(bob)
    sent = services.transfer_create(
        source_wallet_id=a.pk,
        destination=str(b.pk),
        amount=Money(300, "EUR"),
        requested_by_id=alice.pk,
        idempotency_key="oops",
    )
    transfer_txn = Transfer.objects.get(pk=sent.id).ledger_transaction_id
    maker, checker = make_user(is_staff=True), make_user(is_staff=True)

    proposal = ledger_services.reversal_propose(
        transaction_id=transfer_txn, reason="sent by mistake, ticket 5", proposed_by_id=maker.pk
    )
    posting = ledger_services.reversal_approve(reversal_id=proposal, approver_id=checker.pk)

    assert (posted(a), posted(b)) == (1_000, 0)
    alice_history = auth_client(alice).get(f"/api/v1/wallets/{a.pk}/transactions")
    bob_history = auth_client(bob).get(f"/api/v1/wallets/{b.pk}/transactions")
    assert (alice_history.status_code, bob_history.status_code) == (200, 200)
    newest_a, newest_b = alice_history.json()["results"][0], bob_history.json()["results"][0]
    assert (newest_a["kind"], newest_a["direction"], newest_a["amount"]) == ("reversal", "in", 300)
    assert (newest_b["kind"], newest_b["direction"], newest_b["amount"]) == ("reversal", "out", 300)
    assert newest_a["transaction_id"] == newest_b["transaction_id"] == str(posting.transaction_id)
    assert (newest_a["balance_after"], newest_b["balance_after"]) == (1_000, 0)
    assert (newest_a["counterparty"], newest_b["counterparty"]) == ("Bob", "Alice")
    # The original transfer is still there, below its reversal.
    assert [i["kind"] for i in alice_history.json()["results"]] == ["reversal", "p2p", "opening"]
