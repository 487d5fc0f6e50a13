"""The database connection serving a money request dies inside its transaction (the backend
is terminated while the transfer waits on a lock): the request fails cleanly with the one
JSON error shape, nothing is half-written, and the next request works."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.ledger.models import Entry, Hold, Transaction
from apps.wallets import selectors as wallet_selectors
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_wallet
from tests.reliability.faults import figure

pytestmark = pytest.mark.django_db(transaction=True)


def written() -> dict[str, int]:
    return {
        "entries": Entry.objects.count(),
        "transactions": Transaction.objects.count(),
        "holds": Hold.objects.count(),
        "outbox": OutboxEvent.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def test_a_transfer_whose_connection_is_killed_mid_transaction_fails_cleanly(auth_client):
    source, target = make_wallet(funded=1000), make_wallet()
    client = auth_client(source.owner)
    body = {
        "source_wallet": str(source.pk),
        "destination": str(target.pk),
        "amount": 300,
        "currency": "EUR",
    }
    before = written()
    outcome: dict[str, object] = {}

    def request() -> None:
        with connection.cursor() as cursor:  # the connection this thread's request will use
            cursor.execute("SELECT pg_backend_pid()")
            outcome["pid"] = cursor.fetchone()[0]
        try:
            outcome["response"] = client.post(
                "/api/v1/transfers", body, format="json", HTTP_IDEMPOTENCY_KEY="db-drop"
            )
        except Exception as exc:  # noqa: BLE001 - a raised error is a finding too
            outcome["error"] = exc
        finally:
            connection.close()

    target_account = wallet_selectors.ledger_account_of(wallet_id=target.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        # Pause the transfer inside its transaction: it will wait for this lock.
        cursor.execute(
            "SELECT 1 FROM ledger_balance WHERE account_id = %s FOR UPDATE", [target_account]
        )
        cursor.execute("SELECT pg_backend_pid()")
        (locker,) = cursor.fetchone()
        thread = threading.Thread(target=request)
        thread.start()
        victim = None
        deadline = time.monotonic() + 30
        while victim is None and time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # stats are cached per transaction
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND %s = ANY(pg_blocking_pids(pid))",
                [locker],
            )
            row = cursor.fetchone()
            victim = row[0] if row else None
            time.sleep(0.05)
        assert victim is not None, "the transfer never reached the lock"
        assert victim == outcome["pid"]  # the request's own backend, nobody else's
        cursor.execute(
            "SELECT state, xact_start IS NOT NULL FROM pg_stat_activity WHERE pid = %s", [victim]
        )
        assert cursor.fetchone() == ("active", True)  # inside its transaction
        cursor.execute("SELECT pg_terminate_backend(%s)", [victim])
        assert cursor.fetchone() == (True,)
    thread.join(timeout=30)
    assert not thread.is_alive(), "the request hangs"
    assert "error" not in outcome, outcome.get("error")
    response = outcome["response"]
    figure("db_drop", "status", f"{response.status_code} {response.json()['error']['code']}")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "service_unavailable"
    # Nothing half-written, and the key is free for a retry.
    assert written() == before
    assert (balance_of(source), balance_of(target)) == (1000, 0)
    retry = client.post("/api/v1/transfers", body, format="json", HTTP_IDEMPOTENCY_KEY="db-drop")
    assert retry.status_code == 201, retry.json()
    assert (balance_of(source), balance_of(target)) == (700, 300)
    assert client.get(f"/api/v1/wallets/{source.pk}").status_code == 200
