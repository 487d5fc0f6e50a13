"""P2P transfers through the HTTP API under gunicorn, against a bare DRF endpoint.

    .venv/bin/python bench/api_bench.py [--requests 2000] [--clients 1,4,16]

Starts gunicorn (production settings, 127.0.0.1 only) on its own database, creates funded
users with JWT access tokens, then for each client count sends a bounded number of authenticated,
idempotent POST /api/v1/transfers and, in the same run, GETs of a bare endpoint that does one
indexed SELECT. Prints requests/s, p50/p99 latency and the ratio; then, at the last client
count, the layers a transfer passes through, each measured on its own in interleaved rounds
(bench/bench_urls.py).
Checks every answer was 201 (or 200) and that the ledger verifies clean afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from ledger_bench import cpu_busy_seconds  # bench/ itself: these run as scripts

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/finstack_apibench"
PORT = 8799
USERS = 64
PATHS = {  # the POSTs, each with the transfer's body and headers
    "authenticated": "/bench/authenticated?id={id}",
    "idempotent": "/bench/idempotent?id={id}",
    "transfer": "/api/v1/transfers",
}
# What a transfer passes through, each layer adding to the one before (bench/bench_urls.py).
LAYERS = [
    ("bare", "bare endpoint: one indexed SELECT", 200),
    ("authenticated", "+ JWT auth, permission, throttles, body", 200),
    ("idempotent", "+ idempotency record, input validation", 201),
    ("transfer", "+ the transfer (limits, ledger, record)", 201),
]


def environment(url: str) -> dict[str, str]:
    from finstack.settings.keys import dev_rsa_private_key, fernet_key_from

    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "finstack.settings.production",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "ROOT_URLCONF": "bench.bench_urls",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER": "1000000/min",
        "THROTTLE_ANON": "1000000/min",
        "THROTTLE_MONEY": "1000000/min",
        "PYTHONPATH": str(ROOT),
        "JWT_PRIVATE_KEY": dev_rsa_private_key(ROOT / ".data" / "bench-jwt-private.pem"),
        "JWT_ACCESS_TOKEN_SECONDS": "3600",  # outlives the run
        "MFA_ENCRYPTION_KEYS": fernet_key_from("bench"),
        "METRICS_TOKEN": "bench",
        "PAYMENTS_SIMULATED_WEBHOOK_SECRET": "bench-payments",
        "KYC_SIMULATED_WEBHOOK_SECRET": "bench-kyc",
    }


def prepare(url: str) -> list[dict[str, str]]:
    """Fresh database, migrated, with funded users and their JWT access tokens."""
    import psycopg

    admin, name = url.rsplit("/", 1)
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(environment(url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from apps.accounts.tests.mobile import access_token
    from apps.core.money import Money
    from apps.kyc import services as kyc_services
    from apps.ledger import selectors as ledger_selectors
    from apps.ledger import services as ledger_services
    from apps.wallets import selectors as wallet_selectors
    from apps.wallets import services as wallet_services

    call_command("migrate", verbosity=0)
    opening = ledger_selectors.system_account_id(purpose="opening_balances", currency="EUR")
    users = []
    for n in range(USERS):
        user = get_user_model().objects.create_user(f"bench{n}@finstack.test", "pw")
        kyc_services.customer_tier_set(user_id=user.pk, level=2)  # limits fit the load
        wallet = wallet_services.wallet_create(owner_id=user.pk, currency="EUR")
        ledger_services.transfer_post(
            debit_account_id=opening,
            amount=Money(1_000_000, "EUR"),
            idempotency_key=f"f{n}",
            credit_account_id=wallet_selectors.ledger_account_of(wallet_id=wallet),
        )
        token = access_token(user)  # a login session, as the app gets one, and its token
        users.append({"id": str(user.pk), "wallet": str(wallet), "token": token})
    return users


def client(args: tuple[str, list[dict[str, str]], int, int, mp.Barrier]) -> list[tuple[int, float]]:
    kind, users, count, seed, barrier = args
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    me, peer = users[seed % len(users)], users[(seed + 1) % len(users)]
    headers = {"Authorization": f"Bearer {me['token']}", "Content-Type": "application/json"}
    body = json.dumps(
        {
            "source_wallet": me["wallet"],
            "destination": peer["wallet"],
            "amount": 1,
            "currency": "EUR",
        }
    )
    barrier.wait()
    results = []
    for _ in range(count):
        start = time.perf_counter()
        if kind == "bare":
            conn.request("GET", f"/bench/bare?id={me['id']}")
        else:
            conn.request(
                "POST",
                PATHS[kind].format(id=me["id"]),
                body,
                {**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
        response = conn.getresponse()
        response.read()
        results.append((response.status, time.perf_counter() - start))
    return results


def measure(kind: str, users: list[dict[str, str]], requests: int, clients: int) -> dict:
    ctx = mp.get_context("fork")
    barrier = ctx.Manager().Barrier(clients + 1)
    with ctx.Pool(clients) as pool:
        pending = pool.map_async(
            client, [(kind, users, requests // clients, n, barrier) for n in range(clients)]
        )
        barrier.wait()
        start, busy = time.perf_counter(), cpu_busy_seconds()
        results = [r for chunk in pending.get() for r in chunk]
        elapsed, busy = time.perf_counter() - start, cpu_busy_seconds() - busy
    latencies = sorted(t for _, t in results)
    statuses = {s for s, _ in results}
    return {
        "rps": len(results) / elapsed,
        "cpu_ms": busy * 1000 / len(results),  # the whole machine's, clients included
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": statuses,
    }


def layers(users: list[dict[str, str]], requests: int, clients: int, rounds: int) -> None:
    """Where a transfer's time goes: each layer measured on its own, in interleaved rounds
    (the machine drifts by a third within minutes), each round's ratios to its own bare run."""
    print(
        f"\nlayers at {clients} clients, {rounds} interleaved rounds (each adds to the one above):"
    )
    for kind, _, _ in LAYERS:
        measure(kind, users, min(200, requests), clients)  # warm up
    runs: dict[str, list[dict]] = {kind: [] for kind, _, _ in LAYERS}
    for _ in range(rounds):
        for kind, _, status in LAYERS:
            result = measure(kind, users, requests, clients)
            if result["statuses"] != {status}:
                sys.exit(f"unexpected statuses for {kind}: {result['statuses']}")
            runs[kind].append(result)
            result["ratio"] = result["rps"] / runs["bare"][-1]["rps"]
    for kind, label, _ in LAYERS:
        rps = [r["rps"] for r in runs[kind]]
        print(
            f"  {label:<44} {statistics.median(rps):>6,.0f}/s ({min(rps):,.0f}-{max(rps):,.0f})"
            f"  p99 {statistics.median(r['p99'] for r in runs[kind]):>6.1f}ms"
            f"  {statistics.median(r['ratio'] for r in runs[kind]):>5.0%} of bare"
            f"  cpu {statistics.median(r['cpu_ms'] for r in runs[kind]):.2f} ms/request",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--threads", type=int, default=4, help="per worker; 1 runs sync workers (the Dockerfile's)"
    )
    parser.add_argument("--layer-rounds", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    opts = parser.parse_args()
    print(f"preparing {opts.database_url} ({USERS} funded users)...", flush=True)
    users = prepare(opts.database_url)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "finstack.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(opts.workers),
            "--worker-class",
            "gthread" if opts.threads > 1 else "sync",
            "--threads",
            str(opts.threads),
            "--log-level",
            "warning",
        ],
        env=environment(opts.database_url),
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        kind = f"x {opts.threads} threads" if opts.threads > 1 else "(sync)"
        print(f"gunicorn: {opts.workers} workers {kind}; {opts.requests} requests per run\n")
        print(
            f"{'clients':>7} {'transfers/s':>12} {'p50':>8} {'p99':>8} {'bare/s':>8} "
            f"{'p50':>8} {'p99':>8} {'ratio':>6}"
        )
        for clients in map(int, opts.clients.split(",")):
            measure("bare", users, min(200, opts.requests), clients)  # warm up
            bare = measure("bare", users, opts.requests, clients)
            transfer = measure("transfer", users, opts.requests, clients)
            print(
                f"{clients:>7} {transfer['rps']:>12,.0f} {transfer['p50']:>6.1f}ms "
                f"{transfer['p99']:>6.1f}ms {bare['rps']:>8,.0f} {bare['p50']:>6.1f}ms "
                f"{bare['p99']:>6.1f}ms {transfer['rps'] / bare['rps']:>6.0%}",
                flush=True,
            )
            if transfer["statuses"] != {201} or bare["statuses"] != {200}:
                sys.exit(f"unexpected statuses: {transfer['statuses']} {bare['statuses']}")
        print("\ntarget at 16 clients: transfers >= 35% of bare, p99 < 50 ms")
        layers(users, opts.requests, clients, opts.layer_rounds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    from apps.ledger import services as ledger_services

    report = ledger_services.verify()
    print(f"ledger_verify: {'clean' if report.ok else report.breaks[:5]}")


if __name__ == "__main__":
    main()
