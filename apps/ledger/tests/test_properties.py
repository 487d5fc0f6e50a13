"""Random sequences of postings, holds, settlements, voids, reversals and replays, compared with
an in-memory model after every step; then the ledger's invariants."""

import uuid

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.money import Money
from apps.ledger import errors, selectors, services
from apps.ledger.tests.factories import clearing, open_wallet_account

WALLETS = 4
wallet = st.integers(0, WALLETS - 1)
amount = st.integers(1, 400)
pick = st.integers(0, 50)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("transfer"), wallet, wallet, amount),
        st.tuples(st.just("deposit"), wallet, amount),
        st.tuples(st.just("hold"), wallet, amount),
        st.tuples(st.just("post"), pick, st.integers(1, 100)),
        st.tuples(st.just("void"), pick),
        st.tuples(st.just("reverse"), pick),
        st.tuples(st.just("replay"), pick),
    ),
    max_size=30,
)


class Model:
    def __init__(self, wallets, funded):
        self.wallets = wallets
        self.posted = dict.fromkeys(wallets, funded)
        self.pending = dict.fromkeys(wallets, 0)
        self.holds = []  # [hold_id, wallet, amount, state]
        self.postings = []  # [transaction_id, [(wallet, signed delta)], reversed, key, call]

    def available(self, w):
        return self.posted[w] - self.pending[w]

    def can_apply(self, deltas):
        return all(self.available(w) + d >= 0 for w, d in deltas if d < 0)

    def apply(self, deltas):
        for w, d in deltas:
            self.posted[w] += d


def eur(n):
    return Money(n, "EUR")


def step(model, op):  # noqa: C901 - one branch per operation kind keeps the model readable
    kind, *args = op
    w = model.wallets
    if kind == "transfer":
        a, b, n = w[args[0]], w[args[1]], args[2]
        if a == b:
            return
        key = uuid.uuid4().hex
        deltas = [(a, -n), (b, n)]

        def call():
            return services.transfer_post(
                debit_account_id=a, credit_account_id=b, amount=eur(n), idempotency_key=key
            )

        if model.can_apply(deltas):
            result = call()
            model.apply(deltas)
            model.postings.append([result.transaction_id, deltas, False, key, call])
        else:
            with pytest.raises(errors.InsufficientFunds):
                call()
    elif kind == "deposit":
        target, n = w[args[0]], args[1]
        result = services.transfer_post(
            debit_account_id=clearing(),
            credit_account_id=target,
            amount=eur(n),
            idempotency_key=uuid.uuid4().hex,
            kind="deposit",
        )
        model.apply([(target, n)])
        model.postings.append([result.transaction_id, [(target, n)], False, None, None])
    elif kind == "hold":
        source, n = w[args[0]], args[1]
        if model.available(source) >= n:
            hold = services.hold_create(
                debit_account_id=source,
                credit_account_id=clearing(),
                amount=eur(n),
                idempotency_key=uuid.uuid4().hex,
            )
            model.pending[source] += n
            model.holds.append([hold.hold_id, source, n, "pending"])
        else:
            with pytest.raises(errors.InsufficientFunds):
                services.hold_create(
                    debit_account_id=source,
                    credit_account_id=clearing(),
                    amount=eur(n),
                    idempotency_key=uuid.uuid4().hex,
                )
    elif kind in ("post", "void") and model.holds:
        hold = model.holds[args[0] % len(model.holds)]
        hold_id, source, n, state = hold[:4]
        if state == "voided":
            assert services.hold_void(hold_id=hold_id) == "voided"  # idempotent
            with pytest.raises(errors.HoldNotPending):
                services.hold_post(hold_id=hold_id)
            return
        if state == "posted":
            settled, txn = hold[4], hold[5]
            same = services.hold_post(hold_id=hold_id, amount=eur(settled))
            assert same == services.PostingResult(txn, replayed=True)
            with pytest.raises(errors.HoldNotPending):
                services.hold_void(hold_id=hold_id)
            return
        model.pending[source] -= n
        if kind == "void":
            assert services.hold_void(hold_id=hold_id) == "voided"
            hold[3] = "voided"
        else:
            settled = max(1, n * args[1] // 100)
            result = services.hold_post(hold_id=hold_id, amount=eur(settled))
            model.apply([(source, -settled)])
            model.postings.append([result.transaction_id, [(source, -settled)], False, None, None])
            hold[3:] = ["posted", settled, result.transaction_id]
    elif kind == "reverse" and model.postings:
        posting = model.postings[args[0] % len(model.postings)]
        txn, deltas, reversed_, _, _ = posting
        mirror = [(wallet_id, -d) for wallet_id, d in deltas]
        key = uuid.uuid4().hex
        if reversed_:
            with pytest.raises(errors.AlreadyReversed):
                services.transaction_reverse(transaction_id=txn, idempotency_key=key, reason="p")
        elif model.can_apply(mirror):
            result = services.transaction_reverse(
                transaction_id=txn, idempotency_key=key, reason="p"
            )
            model.apply(mirror)
            posting[2] = True
            model.postings.append([result.transaction_id, mirror, False, None, None])
        else:
            with pytest.raises(errors.InsufficientFunds):
                services.transaction_reverse(transaction_id=txn, idempotency_key=key, reason="p")
    elif kind == "replay":
        replayable = [p for p in model.postings if p[4] is not None]
        if replayable:
            txn, _, _, _, call = replayable[args[0] % len(replayable)]
            assert call() == services.PostingResult(txn, replayed=True)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=operations)
def test_random_ledger_histories_match_the_model_and_keep_the_invariants(ops):
    model = Model([open_wallet_account(funded=1_000) for _ in range(WALLETS)], 1_000)
    for op in ops:
        step(model, op)
        for w in model.wallets:  # compared after every step
            view = selectors.account_balance(account_id=w)
            assert (view.posted.amount, view.pending.amount) == (model.posted[w], model.pending[w])
            assert view.available.amount >= 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM ledger_balance b JOIN ledger_account a"
            " ON a.id = b.account_id GROUP BY a.currency"
            " HAVING sum(b.posted_credits - b.posted_debits) <> 0"
            " OR sum(b.pending_debits) <> sum(b.pending_credits)) x"
        )
        assert cursor.fetchone()[0] == 0  # sum of all balances per currency is zero
    result = services.verify()  # stored balances = sums of entries, chains, sequences
    assert result.ok, result.breaks
