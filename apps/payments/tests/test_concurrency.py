"""Deposits and withdrawals racing P2P transfers on real connections: money is conserved,
nothing goes below zero, every saga ends, and the ledger verifies clean."""

import random

import pytest
from django.db.models import Sum

from apps.core.errors import DomainError
from apps.core.money import Money
from apps.core.testing import run_threads
from apps.kyc.tests.factories import set_limits
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.payments import services
from apps.payments.models import TERMINAL, Payment
from apps.payments.providers import simulated
from apps.payments.tests.factories import balance, bank_account, customer
from apps.wallets import services as wallet_services

pytestmark = pytest.mark.django_db(transaction=True)
START = 20_000


def answer(payment_id) -> None:
    for body, headers in simulated.callbacks(str(payment_id)):
        services.webhook_receive(provider="simulated", body=body, headers=headers)


def test_payments_racing_transfers_conserve_money():
    set_limits(1, per_transaction=10**9, daily=10**9, monthly=10**9, max_balance=10**9)
    people = [customer(f"p{n}@example.com", tier=1, funds=START) for n in range(4)]
    sources = {user.pk: (bank_account(user), bank_account(user, "0002")) for user, _ in people}

    def work(n: int) -> list[str]:
        rng, outcomes = random.Random(n), []
        for step in range(12):
            user, wallet = people[rng.randrange(4)]
            good, bad = sources[user.pk]
            amount = Money(rng.randrange(100, 3_000), "EUR")
            key = f"{n}-{step}"
            try:
                choice = rng.random()
                if choice < 0.4:
                    _, target = people[rng.randrange(4)]
                    if target == wallet:
                        continue
                    wallet_services.transfer_create(
                        source_wallet_id=wallet,
                        destination=str(target),
                        amount=amount,
                        requested_by_id=user.pk,
                        idempotency_key=key,
                    )
                else:
                    create = services.deposit_create if choice < 0.7 else services.withdrawal_create
                    source = bad if rng.random() < 0.3 else good
                    payment_id = create(
                        user_id=user.pk,
                        wallet_id=wallet,
                        funding_source_id=source.pk,
                        amount=amount,
                        client_key=key,
                    )
                    answer(payment_id)
                outcomes.append("ok")
            except DomainError as refused:  # e.g. insufficient funds: a clean refusal
                outcomes.append(refused.code)
        return outcomes

    results, failures = run_threads(6, work)
    assert failures == []
    assert sum(len(r) for r in results) > 40

    services.payments_recover()
    assert set(Payment.objects.values_list("state", flat=True)) <= set(TERMINAL) | {"in_review"}
    for payment in Payment.objects.filter(state="in_review"):
        services.review_decide(payment_id=payment.pk, staff_id=people[0][0].pk, approve=False)
    assert set(Payment.objects.values_list("state", flat=True)) <= set(TERMINAL)

    def settled(direction: str) -> int:
        rows = Payment.objects.filter(direction=direction, state="succeeded")
        return rows.aggregate(total=Sum("amount"))["total"] or 0

    wallets = [balance(wallet) for _, wallet in people]
    assert all(available >= 0 for _, available in wallets)
    assert all(posted == available for posted, available in wallets)  # no hold left behind
    total = sum(posted for posted, _ in wallets)
    assert total == 4 * START + settled("deposit") - settled("withdrawal")
    clearing = ledger_selectors.account_balance(
        account_id=ledger_selectors.system_account_id(
            purpose="bank_clearing", currency="EUR", provider="simulated"
        )
    ).posted.amount
    assert clearing == settled("deposit") - settled("withdrawal")
    assert ledger_services.verify().ok


def test_one_client_key_sent_concurrently_makes_one_payment():
    user, wallet = customer("k@example.com", tier=1, funds=START)
    source = bank_account(user)

    def request(_: int):
        return services.withdrawal_create(
            user_id=user.pk,
            wallet_id=wallet,
            funding_source_id=source.pk,
            amount=Money(1_000, "EUR"),
            client_key="same-key",
        )

    results, failures = run_threads(8, request)
    assert failures == []
    assert len(set(results)) == 1
    assert Payment.objects.count() == 1
    assert balance(wallet) == (START, START - 1_000)  # held once
