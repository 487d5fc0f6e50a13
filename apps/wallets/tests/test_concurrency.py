"""Many threads moving money at once through the services and the API."""

import random
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.core.money import Money
from apps.core.testing import run_threads
from apps.kyc.tests.factories import set_limits
from apps.ledger import services as ledger_services
from apps.wallets import services
from apps.wallets.models import Transfer
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db(transaction=True)


def test_32_concurrent_requests_with_one_key_make_one_transfer_and_no_5xx():
    source, target = make_wallet(funded=10_000), make_wallet()

    def request(_):
        client = APIClient()
        client.force_authenticate(source.owner)
        response = client.post(
            "/api/v1/transfers",
            {
                "source_wallet": str(source.pk),
                "destination": str(target.pk),
                "amount": 100,
                "currency": "EUR",
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY="one-key",
        )
        return response.status_code, response.json()

    results, failures = run_threads(32, request)
    assert failures == []
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}
    assert statuses[201] >= 1
    assert {body["id"] for status, body in results if status == 201} == {
        str(Transfer.objects.get().pk)
    }
    assert all(
        body["error"]["code"] == "idempotency_request_in_flight"
        for status, body in results
        if status == 409
    )
    assert (balance_of(source), balance_of(target)) == (9_900, 100)


def test_random_transfers_keep_money_exact_and_the_daily_limit():
    set_limits(per_transaction=400, daily=1_500, monthly=100_000, max_balance=10**9)
    users = [make_user() for _ in range(4)]
    wallets = [make_wallet(u, funded=3_000) for u in users]
    wallets += [make_wallet(u, shared=True, funded=3_000) for u in users]  # two per user
    start_total = sum(balance_of(w) for w in wallets)
    outcomes = Counter()
    lock = threading.Lock()

    def worker(n):
        rng = random.Random(n)
        api = APIClient()
        for i in range(25):
            source, target = rng.sample(wallets, 2)
            amount = rng.randint(1, 450)
            if i % 3 == 0:  # some through the HTTP API
                api.force_authenticate(source.owner)
                response = api.post(
                    "/api/v1/transfers",
                    {
                        "source_wallet": str(source.pk),
                        "destination": str(target.pk),
                        "amount": amount,
                        "currency": "EUR",
                    },
                    format="json",
                    HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
                )
                assert response.status_code < 500, response.content
                outcome = response.json().get("error", {}).get("code", "posted")
            else:
                try:
                    services.transfer_create(
                        source_wallet_id=source.pk,
                        destination=str(target.pk),
                        amount=Money(amount, "EUR"),
                        requested_by_id=source.owner_id,
                        idempotency_key=uuid.uuid4().hex,
                    )
                    outcome = "posted"
                except (ledger_services.InsufficientFunds, services.LimitExceeded) as error:
                    outcome = error.code
            with lock:
                outcomes[outcome] += 1

    _, failures = run_threads(8, worker)
    assert failures == []
    assert outcomes["posted"] > 20
    assert outcomes["limit_exceeded"] > 0  # the race really pressed on the limit
    balances = [balance_of(w) for w in wallets]
    assert min(balances) >= 0
    assert sum(balances) == start_total
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT requested_by_id, sum(amount + fee) FROM wallets_transfer"
            " GROUP BY requested_by_id"
        )
        sent = dict(cursor.fetchall())
    assert max(sent.values()) <= 1_500  # across both of a user's wallets, never exceeded
    result = ledger_services.verify()
    assert result.ok, result.breaks
