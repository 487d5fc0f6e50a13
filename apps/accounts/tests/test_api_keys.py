"""API keys: issued in the admin and shown once, stored hashed, used, rate limited, logged,
revoked and rolled without losing a request."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import ApiKey
from apps.accounts.tests.test_staff_admin import staff

pytestmark = pytest.mark.django_db
KEY = re.compile(r"fsk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_operations_issue_a_key_in_the_admin_and_see_it_once(client, otp_login):
    otp_login(client, staff("ops@finstack.test", "operations"))

    response = client.post(
        "/admin/accounts/apikey/add/",
        {
            "name": "Card processor",
            "namespace": "cards",
            "scopes": ["ledger:read"],
            "rate": "600/min",
        },
        follow=True,
    )

    assert response.status_code == 200
    shown = KEY.findall(response.content.decode())
    assert len(shown) == 1
    row = ApiKey.objects.get()
    assert (row.prefix, row.namespace, row.scopes) == (shown[0][:12], "cards", ["ledger:read"])
    assert row.key_hash == hashlib.sha256(shown[0].encode()).hexdigest()
    assert shown[0] not in str(ApiKey.objects.values().get())  # only its hash is stored
    again = client.get(f"/admin/accounts/apikey/{row.pk}/change/")
    assert again.status_code == 200
    assert not KEY.search(again.content.decode())
    assert _client(shown[0]).get("/api/v1/ledger/accounts").status_code == 200


def test_the_admin_refuses_unknown_terms(client, otp_login):
    otp_login(client, staff("ops@finstack.test", "operations"))

    response = client.post(
        "/admin/accounts/apikey/add/",
        {"name": "x", "namespace": "Cards!", "scopes": ["ledger:read"], "rate": "lots"},
    )

    assert response.status_code == 200  # the form again, with its error
    assert b"namespace" in response.content
    assert not ApiKey.objects.exists()


def test_revoke_in_the_admin_ends_the_key_at_once(client, otp_login):
    issued = services.api_key_create(
        name="p", namespace="p", scopes=["ledger:read"], created_by_id=None
    )
    assert _client(issued.key).get("/api/v1/ledger/accounts").status_code == 200
    otp_login(client, staff("ops@finstack.test", "operations"))

    client.post(
        "/admin/accounts/apikey/",
        {"action": "revoke", "_selected_action": [str(issued.key_id)]},
    )

    assert _client(issued.key).get("/api/v1/ledger/accounts").status_code == 401
    row = ApiKey.objects.get(pk=issued.key_id)
    assert row.revoked_by.email == "ops@finstack.test"


def test_each_use_is_logged_with_the_key_id_and_the_last_use_kept(caplog):
    issued = services.api_key_create(
        name="p", namespace="p", scopes=["ledger:read"], created_by_id=None
    )
    caplog.set_level(logging.INFO, logger="apps.accounts.authentication")

    for _ in range(3):
        _client(issued.key).get("/api/v1/ledger/accounts", REMOTE_ADDR="10.1.2.3")

    uses = [r for r in caplog.records if r.getMessage() == "api key used"]
    assert [(r.api_key_id, r.method, r.path) for r in uses] == [
        (str(issued.key_id), "GET", "/api/v1/ledger/accounts")
    ] * 3
    row = ApiKey.objects.get(pk=issued.key_id)
    assert row.last_used_ip == "10.1.2.3"
    assert timezone.now() - row.last_used_at < timedelta(seconds=5)
    assert issued.key not in caplog.text


def test_each_key_has_its_own_rate(redis_server):
    slow = services.api_key_create(
        name="s", namespace="s", scopes=["ledger:read"], created_by_id=None, rate="3/min"
    )
    other = services.api_key_create(
        name="o", namespace="s", scopes=["ledger:read"], created_by_id=None, rate="3/min"
    )
    statuses = [_client(slow.key).get("/api/v1/ledger/accounts").status_code for _ in range(4)]
    refused = _client(slow.key).get("/api/v1/ledger/accounts")
    others = _client(other.key).get("/api/v1/ledger/accounts")

    assert statuses == [200, 200, 200, 429]
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert others.status_code == 200  # counted per key, not per namespace or address


@pytest.mark.django_db(transaction=True)
def test_a_rolled_key_loses_no_request_and_the_old_one_then_expires(redis_server):
    """Callers switch to the successor during the overlap; every request of the switch
    succeeds, and a retry under the new key replays the answer the old key got."""
    old = services.api_key_create(
        name="c", namespace="cards", scopes=["ledger:read", "ledger:write"], created_by_id=None
    )
    body = {"code": "float", "name": "Float", "type": "asset", "currency": "EUR"}
    _client(old.key).post("/api/v1/ledger/accounts", body, format="json")
    statuses: list[int] = []
    stop = threading.Event()

    def caller(key_holder: list[str]) -> None:
        try:
            while not stop.is_set():
                response = _client(key_holder[0]).get("/api/v1/ledger/accounts")
                statuses.append(response.status_code)
        finally:
            connection.close()

    holder = [old.key]
    thread = threading.Thread(target=caller, args=(holder,))
    thread.start()
    time.sleep(0.2)
    new = services.api_key_roll(key_id=old.key_id, rolled_by_id=None, overlap=timedelta(hours=1))
    holder[0] = new.key  # the caller's deploy picks up the new key
    time.sleep(0.2)
    stop.set()
    thread.join()
    first = _client(old.key).post("/api/v1/ledger/accounts", {**body, "code": "b"}, format="json")

    assert statuses
    assert set(statuses) == {200}
    assert first.status_code == 201  # the old key still works inside the overlap
    same_account = _client(new.key).post(
        "/api/v1/ledger/accounts", {**body, "code": "b"}, format="json"
    )
    assert same_account.json()["id"] == first.json()["id"]  # one namespace: the same account
    ApiKey.objects.filter(pk=old.key_id).update(expires_at=timezone.now())
    assert _client(old.key).get("/api/v1/ledger/accounts").status_code == 401
    assert _client(new.key).get("/api/v1/ledger/accounts").status_code == 200
    rolled = ApiKey.objects.get(pk=new.key_id)
    assert (rolled.namespace, rolled.scopes) == ("cards", ["ledger:read", "ledger:write"])


def test_a_retry_under_the_rolled_key_replays_the_first_answer():
    old = services.api_key_create(
        name="c", namespace="cards", scopes=["ledger:read", "ledger:write"], created_by_id=None
    )
    client = _client(old.key)
    ids = [
        client.post(
            "/api/v1/ledger/accounts",
            {"code": c, "name": c, "type": t, "currency": "EUR"},
            format="json",
        ).json()["id"]
        for c, t in (("a", "asset"), ("b", "liability"))
    ]
    body = {
        "reference": "r-1",
        "entries": [
            {"account": ids[0], "direction": "D", "amount": 5, "currency": "EUR"},
            {"account": ids[1], "direction": "C", "amount": 5, "currency": "EUR"},
        ],
    }
    first = client.post(
        "/api/v1/ledger/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="i-1"
    )
    new = services.api_key_roll(key_id=old.key_id, rolled_by_id=None, overlap=timedelta(0))

    retry = _client(new.key).post(
        "/api/v1/ledger/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="i-1"
    )

    assert retry.status_code == first.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert _client(old.key).get("/api/v1/ledger/accounts").status_code == 401  # no overlap asked


def test_a_revoked_key_cannot_be_rolled():
    issued = services.api_key_create(
        name="p", namespace="p", scopes=["ledger:read"], created_by_id=None
    )
    services.api_key_revoke(key_id=issued.key_id, revoked_by_id=None)

    with pytest.raises(services.errors.ApiKeyRevoked):
        services.api_key_roll(key_id=issued.key_id, rolled_by_id=None, overlap=timedelta(hours=1))

    assert ApiKey.objects.count() == 1
