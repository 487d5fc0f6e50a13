"""Negative controls of the soak: the same workers against a deliberately broken transfer
must make the invariant checks report it. Proves the checks can fail.

Each break (tests/reliability/soak.py, BREAKS) is injected only into the worker processes:
- `spending_gate`: transfers read the sender's spending gate without locking it, check the
  limits against that stale total and write it back, so concurrent transfers of one user pass
  the daily limit together and the gate loses count. The ledger itself is untouched.
- `balance_update`: after each P2P posting the sender's stored balance is rewritten from a
  value read before the posting, without a lock (a read-modify-write), so concurrent postings
  on one wallet lose debits: the stored balances drift from the entries.
"""

import pytest

from apps.kyc.tests.factories import set_limits
from tests.reliability.soak import (
    build_world,
    invariant_violations,
    merge,
    report,
    run_workers,
    summary,
)

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES, SECONDS = 6, 4
DAILY = 20_000
LOAD = {"op_p2p": 10, "op_to_shared": 3, "op_from_shared": 3, "op_p2p_same_key": 1}


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("spending_gate", ["over the daily limit", "spending gate counts"]),
        (
            "balance_update",
            ["stores debits/credits", "stored balances of EUR sum to", "ledger_verify"],
        ),
    ],
)
def test_soak_against_a_broken_transfer_reports_violations(request, broken, expected):
    set_limits(1, per_transaction=3_000, daily=DAILY, monthly=10**9, max_balance=10**9)
    world = build_world(customers=4, funds=200_000, member_limit=10**6)

    results = run_workers(
        [
            {
                "seed": 100 + n,
                "seconds": SECONDS,
                "deadline": 4,
                "world": world,
                "senders": 2,  # two busy senders: their transfers overlap
                "weights": LOAD,
                "broken": broken,
            }
            for n in range(PROCESSES)
        ],
        timeout=SECONDS + 120,
    )

    merged = merge(results)
    violations = invariant_violations(observed_keys=merged["keys"])
    report(request, summary(f"negative control ({broken})", PROCESSES, merged, violations))
    assert merged["crashes"] == []
    for symptom in expected:
        assert any(symptom in v for v in violations), (symptom, violations)
    if broken == "spending_gate":  # the ledger held: only the limits were broken
        assert [v for v in violations if not v.startswith("limits:")] == []
