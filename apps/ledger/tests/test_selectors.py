import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.money import Money
from apps.ledger import errors, selectors, services
from apps.ledger.tests.factories import clearing, open_wallet_account

pytestmark = pytest.mark.django_db


def eur(n):
    return Money(n, "EUR")


def pay(source, target, amount, kind="transfer", key=None):
    return services.transfer_post(
        debit_account_id=source,
        credit_account_id=target,
        amount=eur(amount),
        kind=kind,
        idempotency_key=key or uuid.uuid4().hex,
    ).transaction_id


def test_balance_as_of_a_past_moment_comes_from_running_balances():
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    pay(alice, bob, 100)
    time.sleep(0.01)
    moment = timezone.now()
    time.sleep(0.01)
    pay(alice, bob, 250)
    assert selectors.account_balance_as_of(account_id=alice, as_of=moment) == eur(900)
    assert selectors.account_balance_as_of(account_id=bob, as_of=moment) == eur(100)
    assert selectors.account_balance_as_of(account_id=alice, as_of=timezone.now()) == eur(650)
    before_anything = moment - timedelta(days=1)
    assert selectors.account_balance_as_of(account_id=alice, as_of=before_anything) == eur(0)


def test_as_of_sums_the_shards_of_a_sharded_account():
    wallet = open_wallet_account()
    for _ in range(20):
        pay(clearing(), wallet, 5, kind="deposit")
    now = timezone.now()
    assert selectors.account_balance_as_of(account_id=clearing(), as_of=now) == eur(100)


def test_entries_page_newest_first_with_a_stable_cursor_and_filters():
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    ids = [pay(alice, bob, n, kind="p2p" if n % 2 else "fee") for n in range(1, 8)]
    first = selectors.entries_page(account_id=alice, limit=3)
    assert [e.transaction_id for e in first.items] == ids[::-1][:3]
    assert first.items[0].balance_after == eur(1000 - sum(range(1, 8)))
    assert first.items[0].direction == "D"
    assert first.items[0].counterparty_account_ids == (bob,)
    pay(alice, bob, 1)  # a new entry must not shift the next page
    second = selectors.entries_page(account_id=alice, cursor=first.next_cursor, limit=3)
    assert [e.transaction_id for e in second.items] == ids[::-1][3:6]
    rest = selectors.entries_page(account_id=alice, cursor=second.next_cursor, limit=3)
    assert [e.kind for e in rest.items] == ["p2p", "opening"]
    assert rest.next_cursor is None
    fees = selectors.entries_page(account_id=alice, kinds=["fee"])
    assert {e.kind for e in fees.items} == {"fee"}
    assert len(fees.items) == 3


def test_balance_explanation_lists_each_open_hold():
    alice = open_wallet_account(funded=1000)
    expires = timezone.now() + timedelta(hours=1)
    hold = services.hold_create(
        debit_account_id=alice,
        credit_account_id=clearing(),
        amount=eur(300),
        idempotency_key="exp-1",
        expires_at=expires,
        kind="withdrawal",
        metadata={"payment_id": "pay_9"},
    )
    voided = services.hold_create(
        debit_account_id=alice,
        credit_account_id=clearing(),
        amount=eur(100),
        idempotency_key="exp-2",
    )
    services.hold_void(hold_id=voided.hold_id)
    explained = selectors.balance_explain(account_id=alice)
    assert explained.posted == eur(1000)
    assert explained.available == eur(700)
    assert [(h.id, h.amount, h.kind, h.expires_at, h.metadata) for h in explained.holds] == [
        (hold.hold_id, eur(300), "withdrawal", expires, {"payment_id": "pay_9"})
    ]
    assert (
        explained.posted - sum((h.amount for h in explained.holds), eur(0)) == explained.available
    )


def test_trial_balance_debits_equal_credits_per_currency():
    alice, bob = open_wallet_account(funded=500), open_wallet_account()
    pay(alice, bob, 120)
    pay(clearing(), bob, 80, kind="deposit")
    rows = selectors.trial_balance(currency="EUR")
    assert sum(r.debits for r in rows) == sum(r.credits for r in rows)
    by_code = {r.code: r for r in rows}
    assert by_code["bank_clearing:simulated:EUR"].debits >= 80


def test_unknown_ids_raise_not_found():
    with pytest.raises(errors.AccountNotFound):
        selectors.account_balance(account_id=uuid.uuid4())
    with pytest.raises(errors.TransactionNotFound):
        selectors.transaction_get(transaction_id=uuid.uuid4())
    with pytest.raises(errors.AccountNotFound):
        selectors.system_account_id(purpose="bank_clearing", currency="EUR", provider="nope")


def test_account_view_and_code_lookup():
    alice = open_wallet_account(name="Alice's wallet")
    view = selectors.account_get(account_id=alice)
    assert (view.type, view.currency, view.rule, view.status) == (
        "liability",
        "EUR",
        "debits_must_not_exceed_credits",
        "active",
    )
    assert selectors.account_id_by_code(code=view.code) == alice
