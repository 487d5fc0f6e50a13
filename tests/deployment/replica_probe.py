"""Run by test_replica.py in its own process, against a real primary (DATABASE_URL) and its
streaming replica (DATABASE_REPLICA_URL): prints, as JSON, what a payer and a payee saw on
their history pages while the replica stopped replaying, and where the queries ran."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from apps.accounts.tests.mobile import access_token  # noqa: E402
from apps.kyc.tests.factories import set_limits  # noqa: E402
from apps.wallets.tests.factories import make_user, make_wallet  # noqa: E402


def replica(sql: str) -> object:
    with connections["replica"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def caught_up() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cursor.fetchone()[0]
    for _ in range(200):
        if replica(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"):
            return
        time.sleep(0.05)
    raise SystemExit("the replica did not catch up")


class Counter:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.queries += 1
        return execute(sql, params, many, context)


def history(token: str, wallet) -> tuple[int, list[str]]:
    response = Client().get(
        f"/api/v1/wallets/{wallet.pk}/transactions", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, [item["kind"] for item in response.json().get("results", [])]


set_limits(per_transaction=10**9, daily=10**9, monthly=10**9, max_balance=10**9)
payer, payee = make_user("payer@example.com"), make_user("payee@example.com")
source, target = make_wallet(payer, funded=100_000), make_wallet(payee)
payer_token, payee_token = access_token(payer), access_token(payee)
caught_up()
result: dict[str, object] = {"replica_in_recovery": replica("SELECT pg_is_in_recovery()")}

replica("SELECT pg_wal_replay_pause()::text")  # from now on the replica lags
sent = Client().post(
    "/api/v1/transfers",
    {
        "source_wallet": str(source.pk),
        "destination": str(target.pk),
        "amount": 2_500,
        "currency": "EUR",
    },
    content_type="application/json",
    headers={"Authorization": f"Bearer {payer_token}", "Idempotency-Key": "replica-1"},
)
result["transfer_status"] = sent.status_code
on_replica = Counter()
with connections["replica"].execute_wrapper(on_replica):
    result["payer_right_after"] = history(payer_token, source)  # wrote just now: the primary
    result["replica_queries_for_the_writer"] = on_replica.queries
    result["payee_while_lagging"] = history(payee_token, target)  # the replica, behind
    result["replica_queries_for_the_reader"] = (
        on_replica.queries - (result["replica_queries_for_the_writer"])
    )
replica("SELECT pg_wal_replay_resume()::text")
caught_up()
result["payee_caught_up"] = history(payee_token, target)
sys.stdout.write(json.dumps(result) + "\n")
