"""The ledger API as another system sees it: HTTP and an API key, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.accounts import services as accounts_services
from apps.core.money import Money
from apps.ledger import selectors, services
from apps.ledger.models import Account, Transaction

pytestmark = pytest.mark.django_db

EVERYTHING = ["ledger:read", "ledger:write"]


@pytest.fixture
def key_client() -> Callable[..., APIClient]:
    def make(scopes: list[str] = EVERYTHING, namespace: str = "cards") -> APIClient:
        issued = accounts_services.api_key_create(
            name=f"{namespace} service", namespace=namespace, scopes=scopes, created_by_id=None
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
        return client

    return make


def _open(client: APIClient, code: str, **terms: Any) -> dict[str, Any]:
    body = {"code": code, "name": code.title(), "type": "liability", "currency": "EUR", **terms}
    response = client.post("/api/v1/ledger/accounts", body, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def _post(
    client: APIClient, reference: str, entries: list[tuple[str, str, int]], key: str = ""
) -> Any:
    return client.post(
        "/api/v1/ledger/transactions",
        {
            "reference": reference,
            "description": "card settlement",
            "metadata": {"batch": "7"},
            "entries": [
                {"account": a, "direction": d, "amount": m, "currency": "EUR"}
                for a, d, m in entries
            ],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or f"idem-{reference}",
    )


def test_open_post_read_and_reverse_end_to_end(key_client) -> None:
    client = key_client()
    funding = _open(client, "funding", type="asset")
    card = _open(client, "card-42", rule="debits_must_not_exceed_credits")
    assert (card["code"], card["owner_type"]) == ("card-42", "external")

    posted = _post(client, "settle-1", [(funding["id"], "D", 1500), (card["id"], "C", 1500)])

    assert posted.status_code == 201, posted.json()
    txn = posted.json()
    assert txn["reference"] == "settle-1"
    assert txn["metadata"] == {"batch": "7"}
    assert sorted((e["direction"], e["amount"]) for e in txn["entries"]) == [
        ("C", 1500),
        ("D", 1500),
    ]
    detail = client.get(f"/api/v1/ledger/accounts/{card['id']}").json()
    assert (detail["posted"], detail["pending"], detail["available"]) == (1500, 0, 1500)
    entries = client.get(f"/api/v1/ledger/accounts/{card['id']}/entries").json()
    assert [(e["amount"], e["balance_after"]) for e in entries["results"]] == [(1500, 1500)]
    assert client.get(f"/api/v1/ledger/transactions/{txn['id']}").json() == txn

    reversed_ = client.post(
        f"/api/v1/ledger/transactions/{txn['id']}/reverse",
        {"reference": "settle-1-undo", "reason": "duplicate batch"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="undo-1",
    )

    assert reversed_.status_code == 201, reversed_.json()
    assert reversed_.json()["reverses"] == txn["id"]
    assert client.get(f"/api/v1/ledger/accounts/{card['id']}").json()["posted"] == 0
    again = client.post(
        f"/api/v1/ledger/transactions/{txn['id']}/reverse",
        {"reference": "settle-1-undo-2", "reason": "again"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="undo-2",
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_reversed"
    assert Transaction.objects.filter(reverses_id=txn["id"]).count() == 1


def test_a_retried_post_is_one_transaction(key_client) -> None:
    client = key_client()
    a, b = _open(client, "a", type="asset")["id"], _open(client, "b")["id"]

    first = _post(client, "r-1", [(a, "D", 100), (b, "C", 100)], key="k-1")
    replay = _post(client, "r-1", [(a, "D", 100), (b, "C", 100)], key="k-1")
    new_key_same_reference = _post(client, "r-1", [(a, "D", 100), (b, "C", 100)], key="k-2")

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay["Idempotent-Replayed"] == "true"
    assert new_key_same_reference.status_code == 200  # the business key found it: replayed
    assert first.json()["id"] == replay.json()["id"] == new_key_same_reference.json()["id"]
    assert selectors.account_balance(account_id=b).posted == Money(100, "EUR")


def test_the_ledger_rules_hold_and_nothing_moves(key_client, ledger_state) -> None:
    client = key_client()
    funding = _open(client, "funding", type="asset")["id"]
    card = _open(client, "card", rule="debits_must_not_exceed_credits")["id"]
    other = _open(client, "other")["id"]
    _post(client, "in", [(funding, "D", 500), (card, "C", 500)])
    before = ledger_state()

    overdraft = _post(client, "over", [(card, "D", 501), (other, "C", 501)])
    unbalanced = _post(client, "unbal", [(card, "D", 10), (other, "C", 9)])
    services.account_set_status(account_id=card, status="frozen")
    frozen = _post(client, "frozen", [(card, "D", 10), (other, "C", 10)])

    assert (overdraft.status_code, overdraft.json()["error"]["code"]) == (422, "insufficient_funds")
    assert (unbalanced.status_code, unbalanced.json()["error"]["code"]) == (
        422,
        "unbalanced_transaction",
    )
    assert (frozen.status_code, frozen.json()["error"]["code"]) == (422, "account_frozen")
    assert ledger_state() == before


def test_a_key_reaches_only_its_namespace(key_client, ledger_state) -> None:
    cards, loans = key_client(namespace="cards"), key_client(namespace="loans")
    mine = _open(cards, "float", type="asset")["id"]
    theirs = _open(loans, "float", type="asset")["id"]
    assert mine != theirs  # the same code in two namespaces is two accounts
    system = selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    before = ledger_state()

    to_theirs = _post(cards, "x", [(mine, "D", 5), (theirs, "C", 5)])
    to_system = _post(cards, "y", [(mine, "D", 5), (system, "C", 5)])
    read_theirs = cards.get(f"/api/v1/ledger/accounts/{theirs}")
    listed = cards.get("/api/v1/ledger/accounts").json()["results"]

    for response in (to_theirs, to_system, read_theirs):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "account_not_found"
    assert [a["id"] for a in listed] == [mine]
    assert ledger_state() == before


def test_all_accounts_scope_reaches_system_accounts(key_client) -> None:
    client = key_client(scopes=[*EVERYTHING, "ledger:all_accounts"])
    mine = _open(client, "receivable", type="asset")["id"]
    clearing = selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )

    response = _post(client, "sweep", [(mine, "D", 70), (clearing, "C", 70)])

    assert response.status_code == 201, response.json()
    assert client.get(f"/api/v1/ledger/accounts/{clearing}").status_code == 200


def test_a_key_cannot_reverse_what_it_did_not_post(key_client) -> None:
    client = key_client(scopes=[*EVERYTHING, "ledger:all_accounts"])
    mine = _open(client, "a", type="asset")["id"]
    clearing = selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    inside = services.transfer_post(
        debit_account_id=mine,
        credit_account_id=clearing,
        amount=Money(9, "EUR"),
        idempotency_key="internal-1",
    )

    response = client.post(
        f"/api/v1/ledger/transactions/{inside.transaction_id}/reverse",
        {"reference": "undo", "reason": "no"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="u",
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "transaction_not_found"
    assert not Transaction.objects.filter(reverses_id=inside.transaction_id).exists()


def test_holds_reserve_then_post_or_void(key_client) -> None:
    client = key_client()
    card = _open(client, "card", rule="debits_must_not_exceed_credits")["id"]
    funding = _open(client, "funding", type="asset")["id"]
    merchant = _open(client, "merchant")["id"]
    _post(client, "load", [(funding, "D", 1000), (card, "C", 1000)])

    def hold(reference: str, amount: int) -> Any:
        return client.post(
            "/api/v1/ledger/holds",
            {
                "reference": reference,
                "debit_account": card,
                "credit_account": merchant,
                "amount": amount,
                "currency": "EUR",
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=reference,
        )

    auth = hold("auth-1", 600)
    assert auth.status_code == 201, auth.json()
    balance = client.get(f"/api/v1/ledger/accounts/{card}").json()
    assert (balance["posted"], balance["pending"], balance["available"]) == (1000, 600, 400)
    too_much = hold("auth-2", 401)
    assert too_much.json()["error"]["code"] == "insufficient_funds"

    captured = client.post(
        f"/api/v1/ledger/holds/{auth.json()['id']}/post",
        {"amount": 550},
        format="json",
        HTTP_IDEMPOTENCY_KEY="cap-1",
    )
    assert captured.status_code == 200, captured.json()
    assert (captured.json()["status"], captured.json()["posted_amount"]) == ("posted", 550)
    balance = client.get(f"/api/v1/ledger/accounts/{card}").json()
    assert (balance["posted"], balance["pending"], balance["available"]) == (450, 0, 450)

    second = hold("auth-3", 100).json()
    voided = client.post(
        f"/api/v1/ledger/holds/{second['id']}/void", HTTP_IDEMPOTENCY_KEY="v-1", format="json"
    )
    assert voided.json()["status"] == "voided"
    late = client.post(
        f"/api/v1/ledger/holds/{second['id']}/post", {}, format="json", HTTP_IDEMPOTENCY_KEY="cap-2"
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "hold_not_pending")
    assert client.get(f"/api/v1/ledger/accounts/{card}").json()["available"] == 450


def test_entries_page_with_a_cursor_and_as_of(key_client) -> None:
    client = key_client()
    funding = _open(client, "funding", type="asset")["id"]
    card = _open(client, "card")["id"]
    for n in range(5):
        _post(client, f"p{n}", [(funding, "D", 10), (card, "C", 10)])

    first = client.get(f"/api/v1/ledger/accounts/{card}/entries?page_size=3").json()
    second = client.get(first["next"]).json()

    assert [e["balance_after"] for e in first["results"] + second["results"]] == [
        50,
        40,
        30,
        20,
        10,
    ]
    assert second["next"] is None
    before_all = client.get(f"/api/v1/ledger/accounts/{card}?as_of=2000-01-01T00:00:00Z").json()
    assert (before_all["posted"], before_all["as_of"]) == (0, "2000-01-01T00:00:00Z")


def test_opening_is_idempotent_by_code_and_refuses_other_terms(key_client) -> None:
    client = key_client()
    first = client.post(
        "/api/v1/ledger/accounts",
        {"code": "c", "name": "C", "type": "asset", "currency": "EUR"},
        format="json",
    )
    again = client.post(
        "/api/v1/ledger/accounts",
        {"code": "c", "name": "C", "type": "asset", "currency": "EUR"},
        format="json",
    )
    other = client.post(
        "/api/v1/ledger/accounts",
        {"code": "c", "name": "C", "type": "asset", "currency": "USD"},
        format="json",
    )
    unknown = client.post(
        "/api/v1/ledger/accounts",
        {"code": "d", "name": "D", "type": "asset", "currency": "XAU"},
        format="json",
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert (other.status_code, other.json()["error"]["code"]) == (422, "currency_mismatch")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "currency_not_supported")


def test_customers_and_staff_tokens_are_not_keys(auth_client) -> None:
    response = auth_client(get_user_model().objects.create_user("c@finstack.test", "pw")).get(
        "/api/v1/ledger/accounts"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "api_key_required"


def test_mass_assignment_of_an_account_is_ignored(key_client) -> None:
    client = key_client(namespace="cards")

    opened = _open(
        client,
        "c",
        owner_type="wallet",
        owner_id="42",
        namespace="loans",
        status="frozen",
        shards=8,
        id="00000000-0000-0000-0000-000000000001",
    )

    account = Account.objects.get(pk=opened["id"])
    assert (account.owner_type, account.owner_id, account.code) == (
        "external",
        "cards",
        "ext:cards:c",
    )
    assert (account.status, account.shards) == ("active", 1)


def test_mass_assignment_of_a_posting_is_ignored(key_client) -> None:
    client = key_client(namespace="cards")
    a, b = _open(client, "a", type="asset")["id"], _open(client, "b")["id"]

    response = client.post(
        "/api/v1/ledger/transactions",
        {
            "reference": "r",
            "entries": [
                {"account": a, "direction": "D", "amount": 5, "currency": "EUR", "shard": 3},
                {
                    "account": b,
                    "direction": "C",
                    "amount": 5,
                    "currency": "EUR",
                    "balance_after": 9,
                },
            ],
            "kind": "deposit",
            "created_by": "root",
            "idempotency_key": "someone-elses-key",
            "reverses": a,
            "effective_at": "2000-01-01T00:00:00Z",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="m-1",
    )

    assert response.status_code == 201, response.json()
    txn = Transaction.objects.get(pk=response.json()["id"])
    assert (txn.kind, txn.idempotency_key, txn.reverses_id) == ("api", "ext:cards:r", None)
    assert txn.created_by.startswith("api_key:")
    assert txn.effective_at.year > 2000
    assert selectors.account_balance(account_id=b).posted == Money(5, "EUR")
