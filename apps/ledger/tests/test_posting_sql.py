"""The posting function's wire: what ledger_post() reads and how it lays entries out."""

import json
import uuid

import pytest
from django.db import connection, transaction

from apps.core.money import Money
from apps.ledger import errors, selectors, services
from apps.ledger.models import Entry
from apps.ledger.services import Leg
from apps.ledger.tests.factories import open_wallet_account

pytestmark = pytest.mark.django_db


def eur(amount):
    return Money(amount, "EUR")


def post_raw(payload):
    # A savepoint, as services take one: a refusal must not end the test's transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT ledger_post(%s::jsonb)", [json.dumps(payload)])
        return json.loads(cursor.fetchone()[0])


def test_legs_on_one_shard_are_entered_in_their_given_order():
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    fees = selectors.system_account_id(purpose="fees_income", currency="EUR")
    result = services.transaction_post(
        legs=[
            Leg(alice, "D", eur(100)),
            Leg(bob, "C", eur(100)),
            Leg(alice, "D", eur(3)),
            Leg(fees, "C", eur(3)),
        ],
        idempotency_key="fee-split",
        kind="p2p",
    )
    entries = Entry.objects.filter(transaction_id=result.transaction_id, account_id=alice)
    assert [(e.seq, e.amount, e.balance_after) for e in entries.order_by("seq")] == [
        (2, 100, 900),
        (3, 3, 897),
    ]
    assert selectors.account_balance(account_id=alice).posted == eur(897)
    report = services.verify(store=False)
    assert report.ok, report.breaks


def test_a_leg_without_a_direction_is_refused_and_nothing_moves(ledger_state):
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    before = ledger_state()
    legs = [
        {"account": str(alice), "amount": 10, "currency": "EUR"},
        {"account": str(bob), "direction": "C", "amount": 10, "currency": "EUR"},
    ]
    with pytest.raises(Exception, match="invalid_amount"):
        post_raw({"key": "no-direction", "kind": "test", "legs": legs})
    assert ledger_state() == before


def test_a_leg_on_an_unknown_account_is_refused_and_nothing_moves(ledger_state):
    alice = open_wallet_account(funded=100)
    before = ledger_state()
    with pytest.raises(errors.AccountNotFound):
        services.transfer_post(
            debit_account_id=alice,
            credit_account_id=uuid.uuid4(),
            amount=eur(10),
            idempotency_key="nowhere",
        )
    assert ledger_state() == before


def test_the_previous_releases_leg_keys_post_the_same_transaction():
    """Processes of the previous release post until their rollout ends: their {a, d, m, c}
    legs are the same posting, and a retry under either spelling replays it."""
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    old_legs = [
        {"a": str(alice), "d": "D", "m": 40, "c": "EUR"},
        {"a": str(bob), "d": "C", "m": 40, "c": "EUR", "x": 1000},
    ]
    first = post_raw({"key": "old-wire", "kind": "p2p", "legs": old_legs})
    assert first["replayed"] is False
    assert selectors.account_balance(account_id=alice).posted == eur(60)
    assert selectors.account_balance(account_id=bob).posted == eur(40)
    again = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=eur(40),
        idempotency_key="old-wire",
        kind="p2p",
    )
    assert again.replayed is True
    assert str(again.transaction_id) == first["transaction_id"]
    assert selectors.account_balance(account_id=bob).posted == eur(40)


def test_the_previous_releases_ceiling_still_caps_a_credit(ledger_state):
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    before = ledger_state()
    legs = [
        {"a": str(alice), "d": "D", "m": 40, "c": "EUR"},
        {"a": str(bob), "d": "C", "m": 40, "c": "EUR", "x": 30},
    ]
    with pytest.raises(Exception, match="balance_ceiling_exceeded"):
        post_raw({"key": "old-ceiling", "kind": "p2p", "legs": legs})
    assert ledger_state() == before
