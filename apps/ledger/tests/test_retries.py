"""A key posted again: the same request replays the first result and writes nothing; anything
else asked under the key is refused, and nothing moves. The database compares the retry with
what was posted under the key (no digest of the request is kept)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.money import Money
from apps.ledger import errors, services
from apps.ledger.services import Leg
from apps.ledger.tests.factories import clearing, open_wallet_account

pytestmark = pytest.mark.django_db


def eur(amount):
    return Money(amount, "EUR")


@pytest.fixture
def accounts():
    return open_wallet_account(funded=1000), open_wallet_account(), open_wallet_account()


def post(alice, bob, *, amount=10, kind="transfer", description="", metadata=None, legs=None):
    return services.transaction_post(
        legs=legs or [Leg(alice, "D", eur(amount)), Leg(bob, "C", eur(amount))],
        idempotency_key="retry-me",
        kind=kind,
        description=description,
        metadata=metadata if metadata is not None else {"order": 7},
    )


def test_the_same_request_replays_even_with_its_legs_in_another_order(accounts, ledger_state):
    alice, bob, _ = accounts
    first = post(alice, bob)
    before = ledger_state()
    again = post(alice, bob, legs=[Leg(bob, "C", eur(10)), Leg(alice, "D", eur(10))])
    assert again == services.PostingResult(first.transaction_id, replayed=True)
    assert ledger_state() == before


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 11},
        {"kind": "fee"},
        {"description": "other"},
        {"metadata": {"order": 8}},
        {"metadata": {}},
        {"to_third": True},
    ],
    ids=["amount", "kind", "description", "metadata", "no-metadata", "account"],
)
def test_anything_else_under_the_key_is_refused_and_moves_nothing(accounts, change, ledger_state):
    alice, bob, carol = accounts
    first = post(alice, bob)
    before = ledger_state()
    credit = carol if change.pop("to_third", False) else bob
    with pytest.raises(errors.IdempotencyKeyReused) as refused:
        post(alice, credit, **change)
    assert refused.value.details == {"transaction_id": str(first.transaction_id)}
    assert ledger_state() == before


def test_a_reversal_retried_with_another_reason_is_refused(accounts, ledger_state):
    alice, bob, _ = accounts
    original = post(alice, bob).transaction_id
    reversal = services.transaction_reverse(
        transaction_id=original, idempotency_key="undo", reason="sent by mistake"
    )
    before = ledger_state()
    assert services.transaction_reverse(
        transaction_id=original, idempotency_key="undo", reason="sent by mistake"
    ) == services.PostingResult(reversal.transaction_id, replayed=True)
    with pytest.raises(errors.IdempotencyKeyReused):
        services.transaction_reverse(
            transaction_id=original, idempotency_key="undo", reason="another reason"
        )
    assert ledger_state() == before


def test_a_hold_retried_replays_and_a_changed_one_is_refused(accounts, ledger_state):
    alice, _, _ = accounts
    expires_at = timezone.now() + timedelta(hours=1)

    def hold(**change):
        asked = {"amount": eur(40), "expires_at": expires_at, "metadata": {"payment": "p1"}}
        return services.hold_create(
            debit_account_id=alice,
            credit_account_id=clearing(),
            idempotency_key="hold-me",
            **{**asked, **change},
        )

    first = hold()
    before = ledger_state()
    assert hold() == services.HoldResult(first.hold_id, replayed=True)
    for change in (
        {"amount": eur(41)},
        {"expires_at": expires_at + timedelta(seconds=1)},
        {"expires_at": None},
        {"metadata": {"payment": "p2"}},
    ):
        with pytest.raises(errors.IdempotencyKeyReused) as refused:
            hold(**change)
        assert refused.value.details == {"hold_id": str(first.hold_id)}
    assert ledger_state() == before
