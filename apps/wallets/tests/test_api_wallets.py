import time
from urllib.parse import quote

import pytest
from django.utils import timezone

from apps.core.money import Money
from apps.ledger import services as ledger_services
from apps.ledger.tests.factories import clearing
from apps.wallets import services
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db


def test_list_shows_own_and_member_wallets_with_balances(auth_client):
    alice, bob = make_user(), make_user()
    own = make_wallet(alice, funded=1234)
    shared = make_wallet(bob, shared=True, name="Trip")
    services.wallet_member_add(
        wallet_id=shared.pk, owner_id=bob.pk, member_id=alice.pk, role="viewer"
    )
    make_wallet(bob)  # not alice's
    response = auth_client(alice).get("/api/v1/wallets")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(w["id"], w["role"]) for w in results] == [
        (str(own.pk), "owner"),
        (str(shared.pk), "viewer"),
    ]
    assert results[0]["balance"] == {"posted": 1234, "pending": 0, "available": 1234}


def test_create_a_wallet_and_refuse_a_second_personal_one(auth_client):
    client = auth_client(make_user())
    response = client.post("/api/v1/wallets", {"currency": "USD", "name": "Dollars"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["currency"], body["name"], body["status"], body["balance"]) == (
        "USD",
        "Dollars",
        "active",
        {"posted": 0, "pending": 0, "available": 0},
    )
    again = client.post("/api/v1/wallets", {"currency": "USD"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "wallet_exists"
    shared = client.post("/api/v1/wallets", {"currency": "USD", "shared": True}, format="json")
    assert shared.status_code == 201


@pytest.mark.parametrize("currency", ["usd", "XXX", "EURO", ""])
def test_unknown_currency_is_a_validation_error(auth_client, currency):
    response = auth_client(make_user()).post(
        "/api/v1/wallets", {"currency": currency}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["currency"]


def test_another_users_wallet_is_not_found_everywhere(auth_client):
    wallet = make_wallet(funded=10)
    client = auth_client(make_user())
    for path in ("", "/balance", "/transactions"):
        response = client.get(f"/api/v1/wallets/{wallet.pk}{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "wallet_not_found"


def test_balance_is_explained_by_open_holds(auth_client):
    wallet = make_wallet(funded=1000)
    ledger_services.hold_create(
        debit_account_id=wallet.ledger_account_id,
        credit_account_id=clearing(),
        amount=Money(300, "EUR"),
        idempotency_key="h-api",
        kind="withdrawal",
        metadata={"payment_id": "pay_42"},
    )
    body = auth_client(wallet.owner).get(f"/api/v1/wallets/{wallet.pk}/balance").json()
    assert (body["posted"], body["available"]) == (1000, 700)
    assert [(h["amount"], h["kind"], h["payment_id"]) for h in body["holds"]] == [
        (300, "withdrawal", "pay_42")
    ]


def test_balance_as_of_a_past_moment(auth_client):
    wallet, other = make_wallet(funded=1000), make_wallet()
    time.sleep(0.01)
    moment = timezone.now()
    time.sleep(0.01)
    services.transfer_create(
        source_wallet_id=wallet.pk,
        destination=str(other.pk),
        amount=Money(400, "EUR"),
        requested_by_id=wallet.owner_id,
        idempotency_key="asof",
    )
    client = auth_client(wallet.owner)
    past = client.get(f"/api/v1/wallets/{wallet.pk}/balance?as_of={quote(moment.isoformat())}")
    assert past.json()["posted"] == 1000
    assert client.get(f"/api/v1/wallets/{wallet.pk}/balance").json()["posted"] == 600
    bad = client.get(f"/api/v1/wallets/{wallet.pk}/balance?as_of=yesterday")
    assert bad.status_code == 400


def test_history_newest_first_with_pages_counterparties_and_filters(auth_client):
    alice = make_user("alice@finstack.test", first_name="Alice", last_name="Liddell")
    bob = make_user("bob@finstack.test", first_name="Bob")
    a, b = make_wallet(alice, funded=1000), make_wallet(bob, funded=1000)
    for n in range(1, 6):
        source, target = (a, b) if n % 2 else (b, a)
        services.transfer_create(
            source_wallet_id=source.pk,
            destination=str(target.pk),
            amount=Money(n * 10, "EUR"),
            requested_by_id=source.owner_id,
            idempotency_key=f"h{n}",
            note=f"n{n}",
        )
    client = auth_client(alice)
    first = client.get(f"/api/v1/wallets/{a.pk}/transactions?page_size=2").json()
    assert [
        (i["direction"], i["amount"], i["counterparty"], i["note"]) for i in first["results"]
    ] == [("out", 50, "Bob", "n5"), ("in", 40, "Bob", "n4")]
    assert first["results"][0]["balance_after"] == 1000 - 10 + 20 - 30 + 40 - 50
    second = client.get(first["next"]).json()
    assert [i["amount"] for i in second["results"]] == [30, 20]
    third = client.get(second["next"]).json()
    assert [(i["amount"], i["kind"]) for i in third["results"]] == [(10, "p2p"), (1000, "opening")]
    assert third["next"] is None
    only_p2p = client.get(f"/api/v1/wallets/{a.pk}/transactions?kind=p2p").json()["results"]
    assert len(only_p2p) == 5
    assert client.get(f"/api/v1/wallets/{a.pk}/transactions?cursor=garbage").status_code == 404
