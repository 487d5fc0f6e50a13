"""Concurrent limit skew: one user's withdrawals and P2P transfers, split across their three
wallets in one currency and sent at once from several processes (each with several threads),
never move more than the user's daily limit, and the limit is really reached."""

import pytest
from django.db.models import F, Sum

from apps.core.money import Money
from apps.kyc.tests.factories import set_limits
from apps.ledger.models import Entry
from apps.ledger.tests.factories import fund
from apps.payments.models import Payment
from apps.payments.tests.factories import bank_account, customer
from apps.wallets import services as wallet_services
from apps.wallets.models import Transfer, Wallet
from tests.reliability.soak import invariant_violations, merge, report, run_workers, summary

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES, THREADS = 6, 2
DAILY, BIGGEST = 20_000, 3_000
NO_RISK_REVIEW = {  # the risk rules would send most of these to review: limits are the subject
    "amount": {"default": {"review": 10**9, "deny": 10**10, "review_per_day": 10**10}},
    "max_per_hour": 10**6,
}


def test_concurrent_spending_across_wallets_stops_at_the_daily_limit(request):
    set_limits(1, per_transaction=BIGGEST, daily=DAILY, monthly=10**9, max_balance=10**9)
    user, personal = customer("spender@finstack.test", tier=1, funds=30_000)
    wallets = [personal]
    for name in ("household", "holiday"):
        wallet = wallet_services.wallet_create(
            owner_id=user.pk, currency="EUR", shared=True, name=name
        )
        fund(Wallet.objects.get(pk=wallet).ledger_account_id, Money(30_000, "EUR"))
        wallets.append(wallet)
    _, sink = customer("sink@finstack.test", tier=1)
    world = {
        "user": user.pk,
        "wallets": [str(w) for w in wallets],
        "source": str(bank_account(user).pk),
        "sink": str(sink),
    }

    results = run_workers(
        [
            {
                "kind": "limits",
                "seed": n,
                "threads": THREADS,
                "attempts": 40,
                "deadline": 60,
                "world": world,
                "risk": NO_RISK_REVIEW,
            }
            for n in range(PROCESSES)
        ],
        timeout=180,
    )

    merged = merge(results)
    violations = invariant_violations(observed_keys=merged["keys"])
    report(
        request,
        summary("limit skew", f"{PROCESSES} processes x {THREADS} threads", merged, violations),
    )
    assert merged["crashes"] == []
    transferred = Transfer.objects.filter(requested_by=user).aggregate(
        total=Sum(F("amount") + F("fee"))
    )["total"]
    withdrawn = Payment.objects.filter(user=user, state="succeeded").aggregate(total=Sum("amount"))[
        "total"
    ]
    accounts = Wallet.objects.filter(pk__in=wallets).values_list("ledger_account_id", flat=True)
    left_the_wallets = Entry.objects.filter(account_id__in=accounts, direction="D").aggregate(
        total=Sum("amount")
    )["total"]
    assert transferred > 0
    assert withdrawn > 0
    assert transferred + withdrawn <= DAILY
    assert left_the_wallets == transferred + withdrawn  # as the ledger saw it leave
    assert merged["refusals"]["limit_exceeded:daily"] > 0
    assert transferred + withdrawn > DAILY - BIGGEST  # the limit was reached, not just near
    assert violations == []
