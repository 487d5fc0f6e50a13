"""The ledger as a state machine (hypothesis RuleBasedStateMachine), through its public services
and selectors only, compared with an in-memory model after every step.

Rules: transfer, hold (with or without expiry), post a hold (fully or partially), void, expire
(a past expiry, then the `holds_expire` job), reverse, replay a key (same content: the same
transaction; different content: `IdempotencyKeyReused`), and a maker-checker adjustment (two
different staff users). After every step: posted, pending and available of every wallet
account, each hold's state, stored balance = sum of its entries, and zero sum per currency.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from apps.core.money import Money
from apps.ledger import errors, selectors, services
from apps.ledger.models import Entry, Hold
from apps.ledger.tests.factories import clearing, open_wallet_account

WALLETS = 3
FUNDED = 1_000
wallet = st.integers(0, WALLETS - 1)
amount = st.integers(1, 600)
pick = st.integers(0, 1_000)
SEEN: Counter[str] = Counter()  # what the bounded run really exercised
SOON = timedelta(milliseconds=400)  # long enough for hold_create on a loaded machine


def eur(n: int) -> Money:
    return Money(n, "EUR")


@dataclass
class ModelHold:
    id: UUID
    source: int
    amount: int
    past_expiry: bool  # its expiry has passed (the job may not have run yet)
    status: str = "pending"  # pending | posted | voided | expired (as stored)
    settled: int = 0
    transaction_id: UUID | None = None


@dataclass
class ModelPosting:
    transaction_id: UUID
    deltas: list[tuple[int, int]]  # (wallet index, signed change of posted)
    key: str | None = None  # replayable with the same content
    content: dict[str, Any] = field(default_factory=dict)
    reversed: bool = False


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def open_accounts(self) -> None:
        self.accounts = [open_wallet_account(funded=FUNDED) for _ in range(WALLETS)]
        self.posted = [FUNDED] * WALLETS
        self.holds: list[ModelHold] = []
        self.postings: list[ModelPosting] = []
        users = get_user_model().objects
        tag = uuid.uuid4().hex[:8]
        self.maker = users.create_user(f"maker-{tag}@finstack.test", "pw", is_staff=True)
        self.checker = users.create_user(f"checker-{tag}@finstack.test", "pw", is_staff=True)
        self.adjustments = selectors.system_account_id(purpose="adjustments", currency="EUR")

    # --- the model -------------------------------------------------------------------

    def pending(self, w: int) -> int:
        return sum(
            h.amount
            for h in self.holds
            if h.source == w and h.status == "pending" and not h.past_expiry
        )

    def available(self, w: int) -> int:
        return self.posted[w] - self.pending(w)

    def fits(self, deltas: list[tuple[int, int]]) -> bool:
        return all(self.available(w) + d >= 0 for w, d in deltas if d < 0)

    # --- rules -----------------------------------------------------------------------

    @rule(a=wallet, b=wallet, n=amount)
    def transfer(self, a: int, b: int, n: int) -> None:
        if a == b:
            return
        content = {
            "debit_account_id": self.accounts[a],
            "credit_account_id": self.accounts[b],
            "amount": eur(n),
        }
        key = uuid.uuid4().hex
        deltas = [(a, -n), (b, n)]
        if not self.fits(deltas):
            SEEN["transfer_refused"] += 1
            with pytest.raises(errors.InsufficientFunds):
                services.transfer_post(**content, idempotency_key=key)
            return
        result = services.transfer_post(**content, idempotency_key=key)
        assert not result.replayed
        for w, d in deltas:
            self.posted[w] += d
        self.postings.append(ModelPosting(result.transaction_id, deltas, key, content))
        SEEN["transfer"] += 1

    @rule(a=wallet, n=amount, expiry=st.sampled_from(["none", "later", "soon"]))
    def hold(self, a: int, n: int, expiry: str) -> None:
        """A hold without expiry, one expiring after the test, or one whose expiry then passes
        (time really passes: the ledger reads the clock, and a hold's expiry is immutable)."""
        expires_at = {
            "none": None,
            "later": timezone.now() + timedelta(hours=1),
            "soon": timezone.now() + SOON,
        }[expiry]
        call = {
            "debit_account_id": self.accounts[a],
            "credit_account_id": clearing(),
            "amount": eur(n),
            "idempotency_key": uuid.uuid4().hex,
            "expires_at": expires_at,
        }
        if self.available(a) < n:
            with pytest.raises(errors.InsufficientFunds):
                services.hold_create(**call)
            return
        result = services.hold_create(**call)
        assert not result.replayed
        self.holds.append(ModelHold(result.hold_id, a, n, past_expiry=expiry == "soon"))
        SEEN["hold"] += 1
        if expires_at and expiry == "soon":
            time.sleep(max(0.0, (expires_at - timezone.now()).total_seconds()) + 0.02)

    @precondition(lambda self: self.holds)
    @rule(i=pick, percent=st.sampled_from([100, 100, 50, 1]))
    def post_hold(self, i: int, percent: int) -> None:
        hold = self.holds[i % len(self.holds)]
        settle = max(1, hold.amount * percent // 100)
        if hold.status == "posted":  # settled once: the same transaction, nothing new
            again = services.hold_post(hold_id=hold.id, amount=eur(hold.settled))
            assert again == services.PostingResult(hold.transaction_id, replayed=True)
            SEEN["hold_post_replayed"] += 1
        elif hold.status in ("voided", "expired"):
            SEEN["hold_post_refused_settled"] += 1
            with pytest.raises(errors.HoldNotPending):
                services.hold_post(hold_id=hold.id, amount=eur(settle))
        elif hold.past_expiry:
            SEEN["hold_post_expired"] += 1
            with pytest.raises(errors.HoldExpired):
                services.hold_post(hold_id=hold.id, amount=eur(settle))
        else:
            result = services.hold_post(
                hold_id=hold.id, amount=None if percent == 100 else eur(settle)
            )
            assert not result.replayed
            hold.status, hold.settled, hold.transaction_id = "posted", settle, result.transaction_id
            self.posted[hold.source] -= settle
            self.postings.append(ModelPosting(result.transaction_id, [(hold.source, -settle)]))
            SEEN["hold_posted"] += 1

    @precondition(lambda self: self.holds)
    @rule(i=pick)
    def void(self, i: int) -> None:
        hold = self.holds[i % len(self.holds)]
        if hold.status == "posted":
            with pytest.raises(errors.HoldNotPending):
                services.hold_void(hold_id=hold.id)
        elif hold.status in ("voided", "expired"):
            assert services.hold_void(hold_id=hold.id) == hold.status  # idempotent
        else:
            assert services.hold_void(hold_id=hold.id) == "voided"
            SEEN["hold_voided"] += 1
            hold.status = "voided"

    @rule()
    def expiry_job_runs(self) -> None:
        due = [h for h in self.holds if h.status == "pending" and h.past_expiry]
        assert services.holds_expire() == len(due)
        for hold in due:
            hold.status = "expired"
            SEEN["hold_expired_by_job"] += 1

    @precondition(lambda self: self.postings)
    @rule(i=pick)
    def reverse(self, i: int) -> None:
        posting = self.postings[i % len(self.postings)]
        key = uuid.uuid4().hex
        mirror = [(w, -d) for w, d in posting.deltas]
        call = {"transaction_id": posting.transaction_id, "idempotency_key": key, "reason": "sm"}
        if posting.reversed:
            SEEN["reverse_refused_twice"] += 1
            with pytest.raises(errors.AlreadyReversed):
                services.transaction_reverse(**call)
        elif not self.fits(mirror):
            with pytest.raises(errors.InsufficientFunds):
                services.transaction_reverse(**call)
        else:
            result = services.transaction_reverse(**call)
            posting.reversed = True
            for w, d in mirror:
                self.posted[w] += d
            self.postings.append(ModelPosting(result.transaction_id, mirror))
            SEEN["reversed"] += 1

    @precondition(lambda self: any(p.key for p in self.postings))
    @rule(i=pick, same=st.booleans())
    def replay_key(self, i: int, same: bool) -> None:
        replayable = [p for p in self.postings if p.key]
        posting = replayable[i % len(replayable)]
        if same:
            again = services.transfer_post(**posting.content, idempotency_key=posting.key)
            assert again == services.PostingResult(posting.transaction_id, replayed=True)
            SEEN["replayed_same"] += 1
        else:
            changed = {**posting.content, "amount": posting.content["amount"] + eur(1)}
            SEEN["replay_different_refused"] += 1
            with pytest.raises(errors.IdempotencyKeyReused):
                services.transfer_post(**changed, idempotency_key=posting.key)

    @rule(w=wallet, n=st.integers(1, 300), credit=st.booleans())
    def adjustment(self, w: int, n: int, credit: bool) -> None:
        """Maker proposes, the maker's own approval is refused, a checker approves."""
        debit, credit_to = (
            (self.adjustments, self.accounts[w]) if credit else (self.accounts[w], self.adjustments)
        )
        proposal = services.adjustment_propose(
            debit_account_id=debit,
            credit_account_id=credit_to,
            amount=eur(n),
            reason="state machine",
            proposed_by_id=self.maker.pk,
        )
        with pytest.raises(errors.SameApprover):
            services.adjustment_approve(adjustment_id=proposal, approver_id=self.maker.pk)
        delta = n if credit else -n
        if not self.fits([(w, delta)]):
            with pytest.raises(errors.InsufficientFunds):
                services.adjustment_approve(adjustment_id=proposal, approver_id=self.checker.pk)
            return
        result = services.adjustment_approve(adjustment_id=proposal, approver_id=self.checker.pk)
        self.posted[w] += delta
        self.postings.append(ModelPosting(result.transaction_id, [(w, delta)]))
        SEEN["adjustment_posted"] += 1
        with pytest.raises(errors.AdjustmentNotProposed):
            services.adjustment_approve(adjustment_id=proposal, approver_id=self.checker.pk)

    # --- compared after every step -----------------------------------------------------

    @invariant()
    def balances_match_the_model(self) -> None:
        if not hasattr(self, "accounts"):
            return
        for w, account in enumerate(self.accounts):
            view = selectors.account_balance(account_id=account)
            expected = (self.posted[w], self.pending(w), self.available(w))
            assert (view.posted.amount, view.pending.amount, view.available.amount) == expected
            assert view.available.amount >= 0

    @invariant()
    def holds_match_the_model(self) -> None:
        if not getattr(self, "holds", None):
            return
        stored = dict(
            Hold.objects.filter(pk__in=[h.id for h in self.holds]).values_list("pk", "status")
        )
        assert stored == {h.id: h.status for h in self.holds}

    @invariant()
    def stored_balances_are_the_sums_of_entries(self) -> None:
        if not hasattr(self, "accounts"):
            return
        for w, account in enumerate(self.accounts):
            sums = Entry.objects.filter(account_id=account).aggregate(
                credits=Sum("amount", filter=Q(direction="C"), default=0),
                debits=Sum("amount", filter=Q(direction="D"), default=0),
            )
            assert sums["credits"] - sums["debits"] == self.posted[w]

    @invariant()
    def every_currency_sums_to_zero(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT 1 FROM ledger_balance b JOIN ledger_account a"
                " ON a.id = b.account_id GROUP BY a.currency"
                " HAVING sum(b.posted_credits - b.posted_debits) <> 0"
                " OR sum(b.pending_debits) <> sum(b.pending_credits)) x"
            )
            assert cursor.fetchone()[0] == 0

    def teardown(self) -> None:
        if hasattr(self, "accounts"):
            services.holds_expire()  # leaves no overdue hold to the next example


@pytest.mark.django_db
def test_the_ledger_behaves_like_its_model() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    # Every rule's outcome happened at least once. The two that depend on a hold's real
    # expiry passing (posting it, the expiry job) are left out of this check: they depend on
    # the clock, and apps/ledger/tests cover them deterministically.
    assert set(SEEN) >= {
        "transfer",
        "transfer_refused",
        "hold",
        "hold_posted",
        "hold_voided",
        "reversed",
        "replayed_same",
        "replay_different_refused",
        "adjustment_posted",
    }, SEEN
    result = services.verify()  # stored balances, sequences, running balances, hash chains
    assert result.ok, result.breaks
