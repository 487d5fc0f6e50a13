"""A client retrying a transfer that went through (its answer was lost) gets that transfer,
whatever changed since; the same key for a different transfer is refused. Found by the money
soak: the limit checks ran before the ledger's business key was looked at."""

import pytest

from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.kyc.tests.factories import set_limits
from apps.ledger.services import IdempotencyKeyReused
from apps.wallets import services
from apps.wallets.errors import LimitExceeded
from apps.wallets.models import SpendingGate, Transfer
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_wallet

pytestmark = pytest.mark.django_db


def send(source, destination, amount=600, key="client-key-1", note=""):
    return services.transfer_create(
        source_wallet_id=source.pk,
        destination=str(destination.pk),
        amount=Money(amount, "EUR"),
        requested_by_id=source.owner_id,
        idempotency_key=key,
        note=note,
    )


def test_a_plain_retry_answers_the_transfer_and_counts_it_once():
    """Nothing changed since: the retry passes every check and reaches the ledger, whose
    business key answers the first posting; what the retry wrote before it is rolled back."""
    set_limits(0, per_transaction=1_000, daily=1_500, monthly=10**9, max_balance=10**9)
    source, destination = make_wallet(funded=5_000), make_wallet()
    first = send(source, destination)

    assert send(source, destination) == first

    assert Transfer.objects.filter(source_wallet=source).count() == 1
    assert (balance_of(source), balance_of(destination)) == (4_400, 600)
    assert OutboxEvent.objects.filter(type="wallets.transfer_completed").count() == 1
    assert SpendingGate.objects.get(user_id=source.owner_id).day_total == 600
    send(source, destination, key="client-key-2")  # 600 + 600 fit the daily 1,500
    with pytest.raises(LimitExceeded):
        send(source, destination, key="client-key-3")


def test_a_retry_after_the_limit_was_used_up_answers_the_transfer():
    set_limits(0, per_transaction=1_000, daily=1_000, monthly=10**9, max_balance=10**9)
    source, destination = make_wallet(funded=5_000), make_wallet()
    first = send(source, destination)

    retry = send(source, destination)  # 600 + 600 would pass the daily 1,000

    assert retry == first
    assert Transfer.objects.filter(source_wallet=source).count() == 1
    assert balance_of(source) == 4_400
    assert balance_of(destination) == 600
    assert OutboxEvent.objects.filter(type="wallets.transfer_completed").count() == 1


def test_a_retry_after_the_wallet_was_frozen_answers_the_transfer():
    source, destination = make_wallet(funded=5_000), make_wallet()
    first = send(source, destination)
    services.wallet_set_status(
        wallet_id=source.pk, status="frozen", reason="fraud check", changed_by_id=None
    )

    assert send(source, destination) == first
    assert balance_of(source) == 4_400


def test_the_same_key_for_another_transfer_is_refused_and_moves_nothing():
    set_limits(0, per_transaction=1_000, daily=1_000, monthly=10**9, max_balance=10**9)
    source, destination = make_wallet(funded=5_000), make_wallet()
    send(source, destination)

    with pytest.raises(IdempotencyKeyReused):
        send(source, destination, amount=700)

    assert Transfer.objects.filter(source_wallet=source).count() == 1
    assert balance_of(source) == 4_400


def test_a_refusal_with_a_fresh_key_is_still_a_refusal():
    set_limits(0, per_transaction=1_000, daily=1_000, monthly=10**9, max_balance=10**9)
    source, destination = make_wallet(funded=5_000), make_wallet()
    send(source, destination)

    with pytest.raises(services.LimitExceeded):
        send(source, destination, key="client-key-2")

    assert balance_of(source) == 4_400
