"""HTTP soak: gunicorn serves the app on the test database (as bench/api_bench.py starts it,
JWT bearer tokens for real login sessions), client threads send transfers with idempotency
keys (replayed by the same client and, at the same moment, by others), wallet, balance and
history reads, and requests a client gets wrong. No answer may be a 5xx, every 4xx is JSON
in the API's error shape, a replay answers what the first request answered, and the books
hold afterwards (tests/reliability/soak.py, invariant_violations).

CI size: 6 client threads for 12 s; `SOAK_HTTP_SECONDS` and `SOAK_HTTP_CLIENTS` override.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from apps.accounts.tests.mobile import access_token
from apps.core.testing import wait_for
from apps.kyc.tests.factories import set_limits
from apps.payments.tests.factories import customer
from tests.reliability.soak import invariant_violations, report
from tests.stack import environment, free_port, gunicorn, healthy, stop

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = int(os.environ.get("SOAK_HTTP_SECONDS", "12"))
CLIENTS = int(os.environ.get("SOAK_HTTP_CLIENTS", "6"))
ERROR_KEYS = {"code", "message", "details"}


@pytest.fixture
def server(tmp_path):
    """gunicorn (2 workers x 4 threads) on the test database; yields its port."""
    port = free_port()
    env = environment(
        "finstack.settings.test",
        THROTTLE_USER="1000000/min",
        THROTTLE_ANON="1000000/min",
        THROTTLE_MONEY="1000000/min",
    )
    process = gunicorn(env, port, tmp_path / "gunicorn.log")
    try:
        if not wait_for(lambda: healthy(port), timeout=30):
            pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text())
        yield port, process
    finally:
        stop(process)


class Client:
    """One client thread's requests; every answer is kept for the checks."""

    def __init__(self, n: int, port: int, people: list[dict], log: list, lock) -> None:
        self.rng, self.port, self.people = random.Random(n), port, people
        self.me = people[n % len(people)]
        self.log, self.lock, self.n = log, lock, n

    def request(self, kind: str, method: str, path: str, body=None, token=True, key=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {self.me['token']}"
        if key:
            headers["Idempotency-Key"] = key
        raw = body if isinstance(body, str | type(None)) else json.dumps(body)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, raw, headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = ("not json", data[:200])
        answer = {
            "kind": kind,
            "status": response.status,
            "body": parsed,
            "type": response.getheader("Content-Type", ""),
            "replayed": response.getheader("Idempotent-Replayed") == "true",
            "key": key,
        }
        with self.lock:
            self.log.append(answer)
        return answer

    def transfer_body(self, rng: random.Random, sender: dict) -> dict:
        recipient = rng.choice([p for p in self.people if p is not sender])
        return {
            "source_wallet": sender["wallet"],
            "destination": recipient["wallet"],
            "amount": rng.randrange(100, 2_000),
            "currency": "EUR",
        }

    def step(self) -> None:
        choice = self.rng.random()
        if choice < 0.35:  # a transfer, sometimes retried by the client with the same key
            key = f"http-{self.n}-{uuid.uuid4().hex[:8]}"
            body = self.transfer_body(self.rng, self.me)
            self.request("transfer", "POST", "/api/v1/transfers", body, key=key)
            if self.rng.random() < 0.3:
                self.request("transfer_retry", "POST", "/api/v1/transfers", body, key=key)
        elif choice < 0.45:  # the same request from several clients at once (one user's key)
            key = f"http-shared-{int(time.time() * 2)}"
            rng = random.Random(key)
            owner = rng.choice(self.people)
            body = self.transfer_body(rng, owner)
            me, self.me = self.me, owner
            try:
                self.request("transfer_same_key", "POST", "/api/v1/transfers", body, key=key)
            finally:
                self.me = me
        elif choice < 0.65:
            wallet = self.me["wallet"]
            path = self.rng.choice(
                [
                    "/api/v1/wallets",
                    f"/api/v1/wallets/{wallet}",
                    f"/api/v1/wallets/{wallet}/balance",
                ]
            )
            self.request("wallet_read", "GET", path)
        elif choice < 0.8:
            self.request("history_read", "GET", f"/api/v1/wallets/{self.me['wallet']}/transactions")
        else:
            self.bad_request()

    def bad_request(self) -> None:
        other = self.rng.choice([p for p in self.people if p is not self.me])
        body = self.transfer_body(self.rng, self.me)
        cases = [
            ("POST", "/api/v1/transfers", body, None),  # no Idempotency-Key
            ("POST", "/api/v1/transfers", {**body, "amount": "abc"}, "k"),
            ("POST", "/api/v1/transfers", {**body, "amount": -5}, "k"),
            ("POST", "/api/v1/transfers", {**body, "source_wallet": other["wallet"]}, "k"),
            ("POST", "/api/v1/transfers", {**body, "amount": 10**9}, "k"),  # too much
            ("POST", "/api/v1/transfers", {**body, "destination": self.me["wallet"]}, "k"),
            ("POST", "/api/v1/transfers", '{"source_wallet": ', "k"),  # malformed JSON
            ("GET", f"/api/v1/wallets/{uuid.uuid4()}", None, None),
            ("GET", f"/api/v1/wallets/{other['wallet']}/transactions", None, None),
            ("GET", "/api/v1/no-such-thing", None, None),
            ("DELETE", "/api/v1/transfers", None, None),
        ]
        method, path, payload, key = self.rng.choice(cases)
        if key:
            key = f"bad-{self.n}-{uuid.uuid4().hex[:8]}"
        self.request("bad_request", method, path, payload, key=key)
        if self.rng.random() < 0.3:  # a key reused for another body, and no token at all
            key = f"reuse-{self.n}-{uuid.uuid4().hex[:8]}"
            self.request("transfer", "POST", "/api/v1/transfers", body, key=key)
            changed = {**body, "amount": body["amount"] + 1}
            self.request("bad_key_reused", "POST", "/api/v1/transfers", changed, key=key)
            self.request("bad_no_token", "GET", "/api/v1/wallets", token=False)


def test_http_load_answers_no_5xx_keeps_the_error_shape_and_the_books(request, server):
    set_limits(1, per_transaction=50_000, daily=10**9, monthly=10**9, max_balance=10**9)
    people = []
    for n in range(8):
        user, wallet = customer(f"http{n}@finstack.test", tier=1, funds=100_000)
        people.append({"user": user.pk, "wallet": str(wallet), "token": access_token(user)})
    port, process = server
    log: list[dict] = []
    lock = threading.Lock()
    first_day = datetime.now(UTC).date()
    failures: list[BaseException] = []

    def run(n: int) -> None:
        client, stop = Client(n, port, people, log, lock), time.monotonic() + SECONDS
        try:
            while time.monotonic() < stop:
                client.step()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            failures.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    elapsed = time.monotonic() - started

    statuses = Counter(a["status"] for a in log)
    kinds = Counter(a["kind"] for a in log)
    server_errors = [a for a in log if a["status"] >= 500]
    bad_shape = [
        a
        for a in log
        if 400 <= a["status"] < 500
        and not (
            a["type"].startswith("application/json")
            and isinstance(a["body"], dict)
            and set(a["body"]) == {"error"}
            and set(a["body"]["error"]) == ERROR_KEYS
            and isinstance(a["body"]["error"]["code"], str)
        )
    ]
    by_key: dict[str, list[dict]] = {}
    for answer in log:
        if answer["key"] and answer["kind"].startswith("transfer"):
            by_key.setdefault(answer["key"], []).append(answer)
    replays_differ = [
        key
        for key, answers in by_key.items()
        if len(
            {
                json.dumps(a["body"], sort_keys=True)
                for a in answers
                if a["status"] not in (409, 429)
            }
        )
        > 1
    ]
    observed = {
        key: [f"ok:{a['body']['id']}" for a in answers if a["status"] == 201]
        for key, answers in by_key.items()
    }
    violations = invariant_violations(
        observed_keys=observed, days={first_day, datetime.now(UTC).date()}
    )
    codes = Counter(a["body"]["error"]["code"] for a in log if 400 <= a["status"] < 500)
    report(
        request,
        "\n".join(
            [
                f"=== HTTP soak: gunicorn 2x4, {CLIENTS} clients, {elapsed:.1f} s,"
                f" {len(log)} requests, {len(log) / elapsed:.1f} requests/s",
                "requests: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
                "statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
                "error codes: " + ", ".join(f"{k} {v}" for k, v in sorted(codes.items())),
                f"replayed answers: {sum(a['replayed'] for a in log)}",
                f"5xx: {len(server_errors)}, 4xx off the error shape: {len(bad_shape)},"
                f" replays that differ: {len(replays_differ)}",
                f"invariant violations: {len(violations)}",
                *(f"  - {v}" for v in violations[:20]),
            ]
        ),
    )
    assert failures == []
    assert server_errors == []
    assert bad_shape == []
    assert replays_differ == [], [by_key[k] for k in replays_differ]
    assert statuses[201] > 0
    assert sum(a["replayed"] for a in log) > 0
    assert violations == []
    assert process.poll() is None  # gunicorn is still up
