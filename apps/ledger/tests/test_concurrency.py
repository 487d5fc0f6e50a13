"""Races against the real PostgreSQL: threads each with their own connection."""

import random
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, transaction

from apps.core.money import Money
from apps.core.testing import run_threads
from apps.ledger import errors, selectors, services
from apps.ledger.models import Entry, Transaction
from apps.ledger.tests.factories import clearing, open_wallet_account

pytestmark = pytest.mark.django_db(transaction=True)


def conservation_holds() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.currency FROM ledger_balance b JOIN ledger_account a ON a.id = b.account_id"
            " GROUP BY a.currency HAVING sum(b.posted_credits - b.posted_debits) <> 0"
        )
        return cursor.fetchone() is None


def test_random_transfers_from_many_threads_keep_every_cent():
    wallets = [open_wallet_account(funded=1_000) for _ in range(6)]
    total = sum(selectors.account_balance(account_id=w).posted.amount for w in wallets)
    outcomes = Counter()
    lock = threading.Lock()

    def worker(n):
        rng = random.Random(n)
        for _ in range(60):
            debit, credit = rng.sample(wallets, 2)
            amount = Money(rng.randint(1, 400), "EUR")
            try:
                services.transfer_post(
                    debit_account_id=debit,
                    credit_account_id=credit,
                    amount=amount,
                    idempotency_key=uuid.uuid4().hex,
                )
                outcome = "posted"
            except errors.InsufficientFunds:
                outcome = "refused"
            with lock:
                outcomes[outcome] += 1

    _, failures = run_threads(8, worker)
    assert failures == []
    assert outcomes["posted"] > 100
    assert outcomes["refused"] > 0  # the race really pushed accounts to their limits
    balances = [selectors.account_balance(account_id=w).posted.amount for w in wallets]
    assert min(balances) >= 0
    assert sum(balances) == total
    assert conservation_holds()
    result = services.verify()
    assert result.ok, result.breaks


def test_overdraw_race_lets_exactly_the_affordable_ones_through():
    source = open_wallet_account(funded=1_000)
    sinks = [open_wallet_account() for _ in range(16)]

    def spend(n):
        try:
            services.transfer_post(
                debit_account_id=source,
                credit_account_id=sinks[n],
                amount=Money(100, "EUR"),
                idempotency_key=f"spend-{n}",
            )
        except errors.InsufficientFunds:
            return "refused"
        return "posted"

    results, failures = run_threads(16, spend)
    assert failures == []
    assert Counter(results) == {"posted": 10, "refused": 6}
    assert selectors.account_balance(account_id=source).available == Money(0, "EUR")


def test_ceiling_race_lets_exactly_the_credits_that_fit_through():
    """16 senders credit one account with a ceiling of 1,000 at once: a check on a balance read
    before the lock would let several through on the same stale balance."""
    senders = [open_wallet_account(funded=100) for _ in range(16)]
    target = open_wallet_account(funded=300)

    def credit(n):
        try:
            services.transaction_post(
                legs=[
                    services.Leg(senders[n], "D", Money(100, "EUR")),
                    services.Leg(target, "C", Money(100, "EUR"), 1_000),
                ],
                idempotency_key=f"fill-{n}",
                kind="p2p",
            )
        except errors.BalanceCeilingExceeded:
            return "refused"
        return "posted"

    results, failures = run_threads(16, credit)
    assert failures == []
    assert Counter(results) == {"posted": 7, "refused": 9}
    assert selectors.account_balance(account_id=target).posted == Money(1_000, "EUR")
    assert conservation_holds()


def test_one_idempotency_key_from_32_threads_posts_once():
    source, target = open_wallet_account(funded=1_000), open_wallet_account()

    def same_request(_):
        return services.transfer_post(
            debit_account_id=source,
            credit_account_id=target,
            amount=Money(7, "EUR"),
            idempotency_key="once",
        )

    results, failures = run_threads(32, same_request)
    assert failures == []
    assert len({r.transaction_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert Transaction.objects.filter(idempotency_key="once").count() == 1
    assert selectors.account_balance(account_id=target).posted == Money(7, "EUR")


def test_racing_post_and_void_of_one_hold_settle_it_exactly_once():
    wallet = open_wallet_account(funded=500)
    hold = services.hold_create(
        debit_account_id=wallet,
        credit_account_id=clearing(),
        amount=Money(200, "EUR"),
        idempotency_key="race-hold",
    ).hold_id

    def settle(n):
        try:
            if n % 2:
                services.hold_post(hold_id=hold)
                return "posted"
            return services.hold_void(hold_id=hold)
        except errors.HoldNotPending:
            return "refused"

    results, failures = run_threads(12, settle)
    assert failures == []
    outcome = selectors.balance_explain(account_id=wallet)
    assert outcome.holds == []
    posted = Entry.objects.filter(account_id=wallet, transaction__kind="hold").count()
    if "posted" in results:
        assert set(results) <= {"posted", "refused"}
        assert posted == 1
        assert outcome.posted == Money(300, "EUR")
    else:
        assert set(results) <= {"voided", "refused"}
        assert posted == 0
        assert outcome.posted == Money(500, "EUR")
    assert services.verify().ok


def test_hot_clearing_account_takes_concurrent_deposits_without_losing_any():
    wallets = [open_wallet_account() for _ in range(4)]

    def deposit(n):
        for i in range(40):
            services.transfer_post(
                debit_account_id=clearing(),
                credit_account_id=wallets[n % 4],
                amount=Money(5, "EUR"),
                idempotency_key=f"dep-{n}-{i}",
                kind="deposit",
            )

    _, failures = run_threads(8, deposit)
    assert failures == []
    assert selectors.account_balance(account_id=clearing()).posted == Money(8 * 40 * 5, "EUR")
    assert sum(selectors.account_balance(account_id=w).posted.amount for w in wallets) == 1600
    assert services.verify().ok


def test_two_reversals_racing_under_different_keys_reverse_once():
    """The second reversal, blocked on the first's uncommitted row, gets already_reversed
    (the database's constraint, mapped), never a unique-violation 500."""
    alice, bob = open_wallet_account(funded=500), open_wallet_account()
    posted = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(200, "EUR"),
        idempotency_key="race-original",
    ).transaction_id
    inserted, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            services.transaction_reverse(
                transaction_id=posted, idempotency_key="race-rev-a", reason="race"
            )
            inserted.set()
            assert release.wait(10)
        return "posted"

    def second():
        assert inserted.wait(10)
        threading.Timer(0.5, release.set).start()  # commits while this one waits on it
        try:
            services.transaction_reverse(
                transaction_id=posted, idempotency_key="race-rev-b", reason="race"
            )
        except errors.AlreadyReversed:
            return "already_reversed"
        return "posted"

    results, failures = run_threads(2, lambda n: (first, second)[n]())
    assert failures == []
    assert results == ["posted", "already_reversed"]
    assert Transaction.objects.filter(reverses_id=posted).count() == 1
    assert selectors.account_balance(account_id=alice).posted.amount == 500
    assert selectors.account_balance(account_id=bob).posted.amount == 0
    assert conservation_holds()


@pytest.mark.parametrize(
    ("status", "refusal", "debit_from"),
    [("frozen", errors.AccountFrozen, "target"), ("closed", errors.AccountClosed, "other")],
)
def test_a_posting_queued_behind_a_status_change_sees_the_new_status(status, refusal, debit_from):
    """A posting that waited on the shard lock of an account being frozen (or closed) is
    judged on the status committed while it waited, not on the one it saw before."""
    target, other = open_wallet_account(funded=500), open_wallet_account(funded=500)
    changed, release = threading.Event(), threading.Event()

    def change():
        with transaction.atomic():
            services.account_set_status(account_id=target, status=status)
            changed.set()
            assert release.wait(10)
        return "changed"

    def post():
        assert changed.wait(10)
        threading.Timer(0.5, release.set).start()  # commits while the posting waits on it
        debit, credit = (target, other) if debit_from == "target" else (other, target)
        try:
            services.transfer_post(
                debit_account_id=debit,
                credit_account_id=credit,
                amount=Money(100, "EUR"),
                idempotency_key=f"queued-{status}",
            )
        except refusal:
            return "refused"
        return "posted"

    results, failures = run_threads(2, lambda n: (change, post)[n]())
    assert failures == []
    assert results == ["changed", "refused"]
    assert selectors.account_balance(account_id=target).posted.amount == 500
    assert selectors.account_balance(account_id=other).posted.amount == 500
    assert conservation_holds()
