"""The ledger API under racing callers, on the real PostgreSQL: one reference posts once, and a
transaction is reversed once, whatever the Idempotency-Keys and however many callers."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts import services as accounts_services
from apps.core.money import Money
from apps.core.testing import run_threads
from apps.ledger import selectors
from apps.ledger.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)
CALLERS = 8


def _key() -> str:
    return accounts_services.api_key_create(
        name="race", namespace="race", scopes=["ledger:read", "ledger:write"], created_by_id=None
    ).key


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _accounts(client: APIClient) -> tuple[str, str]:
    def opened(code: str, kind: str) -> str:
        body = {"code": code, "name": code, "type": kind, "currency": "EUR"}
        return client.post("/api/v1/ledger/accounts", body, format="json").json()["id"]

    return opened("float", "asset"), opened("card", "liability")


def _post(client: APIClient, funding: str, card: str, idem: str) -> Any:
    entries = [
        {"account": funding, "direction": "D", "amount": 700, "currency": "EUR"},
        {"account": card, "direction": "C", "amount": 700, "currency": "EUR"},
    ]
    return client.post(
        "/api/v1/ledger/transactions",
        {"reference": "settle-1", "entries": entries},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idem,
    )


def test_racing_posts_of_one_reference_post_once() -> None:
    key = _key()
    funding, card = _accounts(_client(key))

    results, failures = run_threads(
        CALLERS, lambda n: _post(_client(key), funding, card, f"idem-{n}")
    )

    assert failures == []
    assert {r.status_code for r in results} <= {200, 201}
    assert len({r.json()["id"] for r in results}) == 1
    assert Transaction.objects.filter(idempotency_key="ext:race:settle-1").count() == 1
    assert selectors.account_balance(account_id=card).posted == Money(700, "EUR")


def test_racing_reversals_reverse_once() -> None:
    key = _key()
    client = _client(key)
    funding, card = _accounts(client)
    posted = _post(client, funding, card, "idem-0").json()["id"]

    def reverse(n: int) -> Any:
        return _client(key).post(
            f"/api/v1/ledger/transactions/{posted}/reverse",
            {"reference": f"undo-{n}", "reason": "duplicate"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"undo-{n}",
        )

    results, failures = run_threads(CALLERS, reverse)

    assert failures == []
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * (CALLERS - 1)
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "already_reversed"
    }
    assert Transaction.objects.filter(reverses_id=posted).count() == 1
    assert selectors.account_balance(account_id=card).posted == Money(0, "EUR")
