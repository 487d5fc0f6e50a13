"""Money soak: many OS processes move money at random through the services at once, then the
books must still add up (tests/reliability/soak.py has the workers and the checks).

Each worker process does deposits and withdrawals (the simulated bank answers: succeeds,
fails, answers twice, out of order, rejects, or never), P2P transfers (by wallet id and by
e-mail, to and from shared wallets whose members have daily limits), staff reversals and
review decisions, the recovery job, requests a client gets wrong, and client retries that
reuse an idempotency key, from the same process and, at the same moment, from others.

CI size: 8 processes for 20 s. A longer run (the figures are printed at the end):

    SOAK_SECONDS=120 SOAK_PROCESSES=12 DATABASE_URL=postgres://postgres@127.0.0.1/finstack_h1 \\
        .venv/bin/pytest tests/reliability/test_soak_money.py -q
"""

import os
from datetime import UTC, datetime

import pytest

from apps.kyc.tests.factories import set_limits
from tests.reliability.soak import (
    build_world,
    invariant_violations,
    merge,
    payments_settle,
    report,
    run_workers,
    summary,
)

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = int(os.environ.get("SOAK_SECONDS", "20"))
PROCESSES = int(os.environ.get("SOAK_PROCESSES", "8"))
DEADLINE = 6  # seconds a payment may stay unanswered before the recovery job times it out


def test_random_money_movement_from_many_processes_keeps_the_books(request):
    set_limits(1, per_transaction=50_000, daily=10**9, monthly=10**9, max_balance=10**9)
    world = build_world(customers=10, funds=50_000)
    first_day = datetime.now(UTC).date()

    results = run_workers(
        [
            {"seed": n, "seconds": SECONDS, "deadline": DEADLINE, "world": world}
            for n in range(PROCESSES)
        ],
        timeout=SECONDS + 120,
    )
    settled = payments_settle(staff_id=world["staff"], deadline=DEADLINE)

    merged = merge(results)
    violations = invariant_violations(
        observed_keys=merged["keys"], days={first_day, datetime.now(UTC).date()}
    )
    report(request, summary("money soak", PROCESSES, merged, violations, settled))
    assert merged["crashes"] == []
    assert violations == []
    ops = merged["ops"]
    assert sum(ops.values()) > 10 * PROCESSES  # it really ran
    assert ops["retry"] > 0
    assert ops["reversal"] > 0
    assert merged["refusals"]["currency_not_supported"] > 0  # the ledger's currencies only
    assert sum(n for kind, n in ops.items() if kind.startswith("p2p_from_shared_member")) > 0
    assert any(len(outcomes) > 1 for outcomes in merged["keys"].values())
