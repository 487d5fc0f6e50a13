"""A system registers its own receiver with an API key: it gets its namespace's ledger
events, signed, and nothing of anyone else's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from apps.accounts import services as accounts_services
from apps.core import signing
from apps.core.money import Money
from apps.ledger.tests.factories import fund, open_wallet_account
from apps.webhooks.models import Delivery, Endpoint
from tests.security import pii

pytestmark = pytest.mark.django_db
SCOPES = ["ledger:read", "ledger:write", "webhooks:read", "webhooks:write"]


def _client(namespace: str = "cards", scopes: list[str] = SCOPES) -> APIClient:
    issued = accounts_services.api_key_create(
        name=namespace, namespace=namespace, scopes=scopes, created_by_id=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    return client


def _register(client: APIClient, url: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/webhook-endpoints", {"url": url, **fields}, format="json")
    assert response.status_code == 201, response.json()
    pii.seed(response.json()["secret"])
    return response.json()


def _post_in(client: APIClient, reference: str) -> str:
    def opened(code: str, kind: str) -> str:
        body = {"code": code, "name": code, "type": kind, "currency": "EUR"}
        return client.post("/api/v1/ledger/accounts", body, format="json").json()["id"]

    entries = [
        {"account": opened("float", "asset"), "direction": "D", "amount": 700, "currency": "EUR"},
        {
            "account": opened("card", "liability"),
            "direction": "C",
            "amount": 700,
            "currency": "EUR",
        },
    ]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/api/v1/ledger/transactions",
            {"reference": reference, "entries": entries},
            format="json",
            HTTP_IDEMPOTENCY_KEY=reference,
        )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_a_registered_endpoint_gets_its_namespaces_postings_signed(receiver):
    cards, loans = _client("cards"), _client("loans")
    endpoint = _register(cards, receiver.url, description="settlements")
    assert endpoint["event_types"] == [
        "ledger.transaction_posted",
        "ledger.transaction_reversed",
        "ledger.hold_created",
        "ledger.hold_posted",
        "ledger.hold_voided",
    ]

    mine = _post_in(cards, "s-1")
    _post_in(loans, "l-1")  # another namespace's posting
    with TestCase.captureOnCommitCallbacks(execute=True):
        fund(open_wallet_account(), Money(500, "EUR"))  # a customer's money

    assert receiver.wait_for(1)
    assert not receiver.wait_for(2, timeout=0.5)
    [got] = receiver.received
    signing.verify(got.body, got.headers["Finstack-Signature"], endpoint["secret"])
    assert got.json()["type"] == "ledger.transaction_posted"
    assert got.json()["data"]["transaction_id"] == mine
    deliveries = cards.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").json()
    assert [(d["event_type"], d["status"]) for d in deliveries["results"]] == [
        ("ledger.transaction_posted", "succeeded")
    ]


def test_a_key_registers_no_customer_events():
    client = _client()

    response = client.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://hooks.example.com/x", "event_types": ["wallets.transfer_completed"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not Endpoint.objects.exists()


def test_another_namespaces_endpoint_is_not_found(receiver):
    cards, loans = _client("cards"), _client("loans")
    endpoint = _register(cards, receiver.url)
    _post_in(cards, "s-1")
    delivery = Delivery.objects.get()

    for method, path in [
        ("get", f"/api/v1/webhook-endpoints/{endpoint['id']}"),
        ("patch", f"/api/v1/webhook-endpoints/{endpoint['id']}"),
        ("post", f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"),
        ("get", f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries"),
        ("post", f"/api/v1/webhook-deliveries/{delivery.pk}/replay"),
    ]:
        response = getattr(loans, method)(path, {}, format="json")
        missing = getattr(loans, method)(
            path.replace(str(endpoint["id"]), "00000000-0000-0000-0000-000000000000").replace(
                str(delivery.pk), "00000000-0000-0000-0000-000000000000"
            ),
            {},
            format="json",
        )
        assert response.status_code == 404, (path, response.json())
        assert response.json()["error"]["code"] == missing.json()["error"]["code"]
    assert loans.get("/api/v1/webhook-endpoints").json()["results"] == []
    assert Delivery.objects.count() == 1
    assert Endpoint.objects.get().status == "enabled"


def test_rotation_signs_with_both_secrets_then_the_new_one(receiver):
    client = _client()
    endpoint = _register(client, receiver.url)

    rotated = client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", {}, format="json"
    ).json()
    pii.seed(rotated["secret"])
    _post_in(client, "s-1")

    assert receiver.wait_for(1)
    got = receiver.received[0]
    header = got.headers["Finstack-Signature"]
    signing.verify(got.body, header, endpoint["secret"])  # receivers not yet switched
    signing.verify(got.body, header, rotated["secret"])  # receivers already switched
    assert rotated["previous_expires_at"] is not None
    leaked = client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
        {"previous_valid_for_hours": 0},
        format="json",
    ).json()
    pii.seed(leaked["secret"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            f"/api/v1/webhook-deliveries/{Delivery.objects.get().pk}/replay", {}, format="json"
        )
    assert receiver.wait_for(2)
    replayed = receiver.received[1]
    signing.verify(replayed.body, replayed.headers["Finstack-Signature"], leaked["secret"])
    with pytest.raises(signing.BadSignature):
        signing.verify(replayed.body, replayed.headers["Finstack-Signature"], rotated["secret"])
    assert replayed.json()["id"] == got.json()["id"]  # the same event: receivers deduplicate


def test_disabled_by_the_key_it_waits_and_enabled_it_resumes(receiver):
    client = _client()
    endpoint = _register(client, receiver.url)

    off = client.patch(
        f"/api/v1/webhook-endpoints/{endpoint['id']}", {"status": "disabled"}, format="json"
    )
    _post_in(client, "s-1")
    assert off.json()["status"] == "disabled"
    assert not receiver.wait_for(1, timeout=0.3)
    with TestCase.captureOnCommitCallbacks(execute=True):
        on = client.patch(
            f"/api/v1/webhook-endpoints/{endpoint['id']}", {"status": "enabled"}, format="json"
        )

    assert on.json()["status"] == "enabled"
    assert not receiver.wait_for(1, timeout=0.3)  # made while disabled: no delivery was owed
    _post_in(client, "s-2")
    assert receiver.wait_for(1)


def test_reading_needs_webhooks_read_and_writing_webhooks_write():
    reader = _client(scopes=["webhooks:read"])

    listed = reader.get("/api/v1/webhook-endpoints")
    refused = reader.post(
        "/api/v1/webhook-endpoints", {"url": "https://hooks.example.com/x"}, format="json"
    )

    assert listed.status_code == 200
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "scope_missing")
    assert not Endpoint.objects.exists()
