import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.events import decode
from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.ledger import errors, selectors, services
from apps.ledger.events import TransactionPosted
from apps.ledger.models import Entry, Transaction
from apps.ledger.services import Leg
from apps.ledger.tests.factories import clearing, fund, open_wallet_account

pytestmark = pytest.mark.django_db


def balance(account_id):
    return selectors.account_balance(account_id=account_id)


def eur(amount):
    return Money(amount, "EUR")


def test_transfer_moves_money_and_writes_balanced_entries_with_running_balances():
    alice, bob = open_wallet_account(funded=1000), open_wallet_account(funded=50)
    result = services.transfer_post(
        debit_account_id=alice, credit_account_id=bob, amount=eur(300), idempotency_key="t-1"
    )
    assert result.replayed is False
    assert balance(alice) == selectors.BalanceView(eur(700), eur(0), eur(700))
    assert balance(bob).posted == eur(350)
    entries = list(Entry.objects.filter(transaction_id=result.transaction_id).order_by("direction"))
    assert [(e.account_id, e.direction, e.amount, e.seq) for e in entries] == [
        (bob, "C", 300, 2),
        (alice, "D", 300, 2),
    ]
    assert {e.account_id: e.balance_after for e in entries} == {alice: 700, bob: 350}


def test_posting_writes_its_outbox_event_in_the_same_transaction():
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    result = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=eur(40),
        idempotency_key="t-ev",
        kind="p2p",
        metadata={"note": "lunch"},
    )
    # One test transaction: the funding and the transfer share created_at, so find it by id.
    (row,) = OutboxEvent.objects.filter(
        type="ledger.transaction_posted", payload__transaction_id=str(result.transaction_id)
    )
    event = decode(row.type, row.payload)
    assert isinstance(event, TransactionPosted)
    assert event.transaction_id == str(result.transaction_id)
    assert event.kind == "p2p"
    assert event.metadata == {"note": "lunch"}
    assert sorted((leg["direction"], leg["amount"]) for leg in event.legs) == [("C", 40), ("D", 40)]


def test_same_key_same_request_replays_without_writing(ledger_state):
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    first = services.transfer_post(
        debit_account_id=alice, credit_account_id=bob, amount=eur(10), idempotency_key="k"
    )
    before = ledger_state()
    again = services.transfer_post(
        debit_account_id=alice, credit_account_id=bob, amount=eur(10), idempotency_key="k"
    )
    assert again == services.PostingResult(first.transaction_id, replayed=True)
    assert ledger_state() == before


def test_same_key_different_request_is_refused(ledger_state):
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    first = services.transfer_post(
        debit_account_id=alice, credit_account_id=bob, amount=eur(10), idempotency_key="k2"
    )
    before = ledger_state()
    with pytest.raises(errors.IdempotencyKeyReused) as refused:
        services.transfer_post(
            debit_account_id=alice, credit_account_id=bob, amount=eur(11), idempotency_key="k2"
        )
    assert refused.value.details == {"transaction_id": str(first.transaction_id)}
    assert ledger_state() == before


def test_overdraft_is_refused_and_nothing_moves(ledger_state):
    alice, bob = open_wallet_account(funded=500), open_wallet_account()
    before = ledger_state()
    with pytest.raises(errors.InsufficientFunds) as refused:
        services.transfer_post(
            debit_account_id=alice, credit_account_id=bob, amount=eur(501), idempotency_key="over"
        )
    assert refused.value.details["available"] == 500
    assert refused.value.details["requested"] == 501
    assert ledger_state() == before
    assert balance(alice).posted == eur(500)
    assert not Transaction.objects.filter(idempotency_key="over").exists()


def test_refusal_inside_a_callers_transaction_leaves_it_usable():
    from django.db import transaction

    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    with transaction.atomic():
        with pytest.raises(errors.InsufficientFunds):
            services.transfer_post(
                debit_account_id=alice,
                credit_account_id=bob,
                amount=eur(101),
                idempotency_key="inner-1",
            )
        services.transfer_post(
            debit_account_id=alice,
            credit_account_id=bob,
            amount=eur(100),
            idempotency_key="inner-2",
        )
    assert balance(bob).posted == eur(100)


def post_then_fail(alice, bob, savepoint):
    from django.db import transaction

    with transaction.atomic():
        # The block's first statement: it must run inside the block, not commit on its own.
        services.transaction_post(
            legs=[Leg(alice, "D", eur(60)), Leg(bob, "C", eur(60))],
            idempotency_key="opens-the-block",
            kind="transfer",
            savepoint=savepoint,
        )
        raise RuntimeError("the caller fails after the posting")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("savepoint", [True, False])
def test_a_posting_that_opens_a_callers_block_rolls_back_with_it(savepoint, ledger_state):
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    before = ledger_state()
    with pytest.raises(RuntimeError):
        post_then_fail(alice, bob, savepoint)
    assert ledger_state() == before
    assert balance(alice).posted == eur(100)
    assert not Transaction.objects.filter(idempotency_key="opens-the-block").exists()


@pytest.mark.parametrize(
    ("status", "error"), [("frozen", errors.AccountFrozen), ("closed", errors.AccountClosed)]
)
def test_frozen_or_closed_account_cannot_send(status, error, ledger_state):
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    services.account_set_status(account_id=alice, status=status)
    before = ledger_state()
    with pytest.raises(error):
        services.transfer_post(
            debit_account_id=alice,
            credit_account_id=bob,
            amount=eur(1),
            idempotency_key=f"{status}-send",
        )
    assert ledger_state() == before


def post_with_ceiling(debit, credit, amount, ceiling, key):
    return services.transaction_post(
        legs=[Leg(debit, "D", eur(amount)), Leg(credit, "C", eur(amount), ceiling)],
        idempotency_key=key,
        kind="p2p",
    )


def test_a_credit_over_the_accounts_ceiling_is_refused_and_moves_nothing(ledger_state):
    alice, bob = open_wallet_account(funded=1000), open_wallet_account(funded=400)
    before = ledger_state()
    with pytest.raises(errors.BalanceCeilingExceeded) as refused:
        post_with_ceiling(alice, bob, 101, 500, "over")
    assert refused.value.details["account"].startswith("wallet:test-")
    assert refused.value.details == {
        **refused.value.details,
        "ceiling": 500,
        "balance": 400,
        "requested": 101,
        "currency": "EUR",
    }
    assert ledger_state() == before
    post_with_ceiling(alice, bob, 100, 500, "up-to")  # exactly to the ceiling is allowed
    assert balance(bob).posted == eur(500)


def test_a_ceiling_is_not_part_of_the_postings_content():
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    first = post_with_ceiling(alice, bob, 10, 500, "same")
    again = post_with_ceiling(alice, bob, 10, 20_000, "same")  # the tier changed since
    assert (again.transaction_id, again.replayed) == (first.transaction_id, True)
    assert balance(bob).posted == eur(10)


def test_a_ceiling_does_not_stop_money_leaving():
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    services.transaction_post(
        legs=[Leg(alice, "D", eur(10), 5), Leg(bob, "C", eur(10))],
        idempotency_key="out",
        kind="p2p",
    )
    assert balance(alice).posted == eur(990)


def test_frozen_account_can_still_receive():
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    services.account_set_status(account_id=bob, status="frozen")
    services.transfer_post(
        debit_account_id=alice, credit_account_id=bob, amount=eur(5), idempotency_key="to-frozen"
    )
    assert balance(bob).posted == eur(5)


def test_closed_account_cannot_receive():
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    services.account_set_status(account_id=bob, status="closed")
    with pytest.raises(errors.AccountClosed):
        services.transfer_post(
            debit_account_id=alice,
            credit_account_id=bob,
            amount=eur(5),
            idempotency_key="to-closed",
        )


def test_currency_mismatch_is_refused(ledger_state):
    alice, dollars = open_wallet_account(funded=100), open_wallet_account("USD")
    before = ledger_state()
    with pytest.raises(errors.CurrencyMismatch):
        services.transfer_post(
            debit_account_id=alice, credit_account_id=dollars, amount=eur(5), idempotency_key="fx"
        )
    assert ledger_state() == before


@pytest.mark.parametrize(
    "legs",
    [
        [("alice", "D", 10)],
        [("alice", "D", 10), ("bob", "C", 9)],
        [("alice", "D", 0), ("bob", "C", 0)],
    ],
)
def test_unbalanced_or_empty_transactions_are_refused(legs, ledger_state):
    ids = {"alice": open_wallet_account(funded=100), "bob": open_wallet_account()}
    before = ledger_state()
    with pytest.raises((errors.UnbalancedTransaction, errors.InvalidAmount)):
        services.transaction_post(
            legs=[Leg(ids[name], d, eur(m)) for name, d, m in legs],
            idempotency_key="bad",
            kind="test",
        )
    assert ledger_state() == before


def test_multi_leg_transaction_with_a_fee():
    alice, bob = open_wallet_account(funded=1000), open_wallet_account()
    fees = selectors.system_account_id(purpose="fees_income", currency="EUR")
    services.transaction_post(
        legs=[Leg(alice, "D", eur(102)), Leg(bob, "C", eur(100)), Leg(fees, "C", eur(2))],
        idempotency_key="fee-1",
        kind="p2p",
    )
    assert balance(alice).posted == eur(898)
    assert balance(bob).posted == eur(100)
    assert balance(fees).posted == eur(2)


def test_hold_reserves_then_posts_a_smaller_amount_exactly_once(ledger_state):
    alice = open_wallet_account(funded=1000)
    hold = services.hold_create(
        debit_account_id=alice,
        credit_account_id=clearing(),
        amount=eur(600),
        idempotency_key="w-1",
        metadata={"payment_id": "pay_1"},
    )
    assert balance(alice) == selectors.BalanceView(eur(1000), eur(600), eur(400))
    with pytest.raises(errors.InsufficientFunds):  # the held money is not spendable
        services.transfer_post(
            debit_account_id=alice,
            credit_account_id=open_wallet_account(),
            amount=eur(401),
            idempotency_key="spend-held",
        )

    posted = services.hold_post(hold_id=hold.hold_id, amount=eur(550))
    assert balance(alice) == selectors.BalanceView(eur(450), eur(0), eur(450))
    before = ledger_state()
    assert services.hold_post(hold_id=hold.hold_id, amount=eur(550)) == services.PostingResult(
        posted.transaction_id, replayed=True
    )
    assert ledger_state() == before
    with pytest.raises(errors.HoldNotPending):
        services.hold_post(hold_id=hold.hold_id, amount=eur(500))
    with pytest.raises(errors.HoldNotPending):
        services.hold_void(hold_id=hold.hold_id)
    assert ledger_state() == before


def test_hold_cannot_post_more_than_reserved():
    alice = open_wallet_account(funded=1000)
    hold = services.hold_create(
        debit_account_id=alice, credit_account_id=clearing(), amount=eur(100), idempotency_key="w-2"
    )
    with pytest.raises(errors.InvalidAmount):
        services.hold_post(hold_id=hold.hold_id, amount=eur(101))
    assert balance(alice).pending == eur(100)


def test_voided_hold_releases_funds_and_can_never_post(ledger_state):
    alice = open_wallet_account(funded=1000)
    hold = services.hold_create(
        debit_account_id=alice, credit_account_id=clearing(), amount=eur(300), idempotency_key="w-3"
    )
    assert services.hold_void(hold_id=hold.hold_id) == "voided"
    assert balance(alice) == selectors.BalanceView(eur(1000), eur(0), eur(1000))
    before = ledger_state()
    assert services.hold_void(hold_id=hold.hold_id) == "voided"  # idempotent
    with pytest.raises(errors.HoldNotPending):
        services.hold_post(hold_id=hold.hold_id)
    assert ledger_state() == before


def test_expired_hold_stops_counting_before_the_sweeper_and_cannot_post():
    alice = open_wallet_account(funded=1000)
    hold = services.hold_create(
        debit_account_id=alice,
        credit_account_id=clearing(),
        amount=eur(700),
        idempotency_key="w-4",
        expires_at=timezone.now() + timedelta(milliseconds=400),
    )
    assert balance(alice).available == eur(300)
    time.sleep(0.5)
    assert balance(alice) == selectors.BalanceView(eur(1000), eur(0), eur(1000))
    # Spendable again at once, even though the sweeper has not run.
    services.transfer_post(
        debit_account_id=alice,
        credit_account_id=open_wallet_account(),
        amount=eur(900),
        idempotency_key="after-expiry",
    )
    with pytest.raises(errors.HoldExpired):
        services.hold_post(hold_id=hold.hold_id)
    assert services.holds_expire() == 1
    from apps.ledger.models import Hold

    assert Hold.objects.get(pk=hold.hold_id).status == "expired"
    assert services.holds_expire() == 0
    with pytest.raises(errors.HoldNotPending):
        services.hold_post(hold_id=hold.hold_id)
    assert balance(alice) == selectors.BalanceView(eur(100), eur(0), eur(100))
    assert services.verify().ok


def test_hold_over_available_is_refused(ledger_state):
    alice = open_wallet_account(funded=100)
    before = ledger_state()
    with pytest.raises(errors.InsufficientFunds):
        services.hold_create(
            debit_account_id=alice,
            credit_account_id=clearing(),
            amount=eur(101),
            idempotency_key="w-5",
        )
    assert ledger_state() == before


def test_reversal_mirrors_the_original_once():
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    original = services.transfer_post(
        debit_account_id=alice, credit_account_id=bob, amount=eur(60), idempotency_key="to-reverse"
    )
    reversal = services.transaction_reverse(
        transaction_id=original.transaction_id, idempotency_key="rev-1", reason="sent by mistake"
    )
    assert balance(alice).posted == eur(100)
    assert balance(bob).posted == eur(0)
    view = selectors.transaction_get(transaction_id=reversal.transaction_id)
    assert view.reverses_id == original.transaction_id
    assert (
        selectors.transaction_get(transaction_id=original.transaction_id).reversed_by_id
        == reversal.transaction_id
    )
    assert services.transaction_reverse(
        transaction_id=original.transaction_id, idempotency_key="rev-1", reason="sent by mistake"
    ) == services.PostingResult(reversal.transaction_id, replayed=True)
    with pytest.raises(errors.AlreadyReversed):
        services.transaction_reverse(
            transaction_id=original.transaction_id, idempotency_key="rev-2", reason="again"
        )
    assert Transaction.objects.filter(reverses_id=original.transaction_id).count() == 1


def test_reversal_that_would_overdraw_is_refused():
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    original = services.transfer_post(
        debit_account_id=alice, credit_account_id=bob, amount=eur(60), idempotency_key="spent"
    )
    services.transfer_post(
        debit_account_id=bob, credit_account_id=alice, amount=eur(50), idempotency_key="spent-on"
    )
    with pytest.raises(errors.InsufficientFunds):
        services.transaction_reverse(
            transaction_id=original.transaction_id, idempotency_key="rev-x", reason="too late"
        )


def test_deposits_spread_over_clearing_shards_and_sum_correctly():
    wallets = [open_wallet_account() for _ in range(3)]
    for n in range(40):
        services.transfer_post(
            debit_account_id=clearing(),
            credit_account_id=wallets[n % 3],
            amount=eur(10),
            idempotency_key=f"dep-{n}",
            kind="deposit",
        )
    shards = set(Entry.objects.filter(account_id=clearing()).values_list("shard", flat=True))
    assert len(shards) > 1
    assert balance(clearing()).posted == eur(400)  # an asset: debits - credits
    assert services.verify().ok


def test_adjustment_needs_a_second_person():
    from django.contrib.auth import get_user_model

    User = get_user_model()  # noqa: N806
    maker = User.objects.create_user("maker@finstack.test", "pw", is_staff=True)
    checker = User.objects.create_user("checker@finstack.test", "pw", is_staff=True)
    wallet = open_wallet_account()
    adjustments = selectors.system_account_id(purpose="adjustments", currency="EUR")
    proposal = services.adjustment_propose(
        debit_account_id=adjustments,
        credit_account_id=wallet,
        amount=eur(25),
        reason="goodwill for ticket 12",
        proposed_by_id=maker.pk,
    )
    with pytest.raises(errors.SameApprover):
        services.adjustment_approve(adjustment_id=proposal, approver_id=maker.pk)
    assert balance(wallet).posted == eur(0)
    posting = services.adjustment_approve(adjustment_id=proposal, approver_id=checker.pk)
    assert balance(wallet).posted == eur(25)
    txn = selectors.transaction_get(transaction_id=posting.transaction_id)
    assert txn.kind == "adjustment"
    assert txn.metadata["proposed_by"] == maker.pk
    assert txn.metadata["approved_by"] == checker.pk
    with pytest.raises(errors.AdjustmentNotProposed):
        services.adjustment_approve(adjustment_id=proposal, approver_id=checker.pk)


def test_account_create_is_idempotent_by_code():
    first = services.account_create(code="wallet:same", name="a", type="liability", currency="EUR")
    assert (
        services.account_create(code="wallet:same", name="a", type="liability", currency="EUR")
        == first
    )
    with pytest.raises(errors.CurrencyMismatch):
        services.account_create(code="wallet:same", name="a", type="liability", currency="USD")


def test_chart_of_accounts_exists_and_ensure_is_idempotent():
    assert selectors.system_account_id(
        purpose="bank_clearing", currency="GBP", provider="simulated"
    )
    assert services.chart_ensure() == 0


def test_fund_helper_posts_from_opening_balances():
    wallet = open_wallet_account()
    fund(wallet, eur(5))
    opening = selectors.system_account_id(purpose="opening_balances", currency="EUR")
    assert balance(opening).posted.amount <= -5  # equity gave what the wallet received


def test_hold_expiring_in_the_past_is_refused(ledger_state):
    alice = open_wallet_account(funded=100)
    before = ledger_state()
    with pytest.raises(errors.InvalidAmount):
        services.hold_create(
            debit_account_id=alice,
            credit_account_id=clearing(),
            amount=eur(1),
            idempotency_key="w-past",
            expires_at=timezone.now() - timedelta(seconds=1),
        )
    assert ledger_state() == before
