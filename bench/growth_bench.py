"""How the ledger's reads grow with its size (not part of `make test`).

    .venv/bin/python bench/growth_bench.py [--entries 10000000]
        [--checkpoints 100000,1000000,10000000] [--wallets 20000] [--hot 4]

Runs on its own database (default postgres://postgres@127.0.0.1:5432/finstack_growth_bench,
dropped and re-created, and dropped again at the end unless --keep), migrated like production.
It opens --wallets wallet accounts plus --hot hot ones, funds each with one opening posting,
then fills the ledger inside PostgreSQL: a procedure calls ledger_post(), the posting function
every service uses, once per transfer and commits each (so the hash chains, sequences, stored
balances, outbox rows and the commit-time balance check are the production ones), from
--workers sessions at once. A --hot-share of the transfers have a hot wallet on one side.

At each checkpoint (a total number of entries) it runs VACUUM ANALYZE (what autovacuum would
have done by then), then measures, warm, the median of --repeats calls of:
  - account_balance_as_of() of a hot and of a cold wallet, at a moment halfway through history;
  - entries_page() (what the wallet history API reads) of a hot and of a cold wallet: the first
    page and a deep page (the cursor of an entry halfway back in the wallet's history);
  - verify(), the full recomputation ledger_verify and the nightly job run (once: it is long);
and the table sizes. Then a table of each cost per checkpoint and its growth against the growth
of the entries. Fill time is budgeted (--max-fill-minutes): a checkpoint whose projected fill
would exceed it is skipped and named. Ends with ledger_verify's verdict.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from ledger_bench import django_setup  # bench/ itself: these run as scripts

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/finstack_growth_bench"

# Bench-only helper, created in the bench database: one ledger_post() per transfer, each
# committed on its own (the locks of one posting are taken in one global order; holding them
# across postings could deadlock two fillers on a hot wallet).
FILL_PROCEDURE = """
CREATE OR REPLACE PROCEDURE bench_fill(tag text, posts int, hot uuid[], cold uuid[],
                                       hot_share float8)
LANGUAGE plpgsql AS $$
DECLARE i int; a uuid; b uuid; t uuid; m bigint; nh int := array_length(hot, 1);
        nc int := array_length(cold, 1);
BEGIN
  FOR i IN 1..posts LOOP
    b := cold[1 + floor(random() * nc)::int];
    IF random() < hot_share THEN
      a := hot[1 + floor(random() * nh)::int];
    ELSE
      a := cold[1 + floor(random() * nc)::int];
      IF a = b THEN a := cold[1 + (array_position(cold, b) % nc)]; END IF;
    END IF;
    IF random() < 0.5 THEN t := a; a := b; b := t; END IF;
    m := 1 + floor(random() * 100)::bigint;
    PERFORM ledger_post(jsonb_build_object('key', tag || ':' || i, 'kind', 'transfer',
      'legs', jsonb_build_array(
        jsonb_build_object('account', a, 'direction', 'D', 'amount', m, 'currency', 'EUR'),
        jsonb_build_object('account', b, 'direction', 'C', 'amount', m, 'currency', 'EUR'))));
    COMMIT;
  END LOOP;
END $$;

CREATE OR REPLACE PROCEDURE bench_fund(tag text, source uuid, targets uuid[], amount bigint)
LANGUAGE plpgsql AS $$
DECLARE i int;
BEGIN
  FOR i IN 1..coalesce(array_length(targets, 1), 0) LOOP
    PERFORM ledger_post(jsonb_build_object('key', tag || ':' || i, 'kind', 'opening',
      'legs', jsonb_build_array(
        jsonb_build_object('account', source, 'direction', 'D', 'amount', amount,
                           'currency', 'EUR'),
        jsonb_build_object('account', targets[i], 'direction', 'C', 'amount', amount,
                           'currency', 'EUR'))));
    IF i % 1000 = 0 THEN COMMIT; END IF;
  END LOOP;
END $$;
"""

TABLES = ["ledger_entry", "ledger_transaction", "core_outboxevent", "ledger_balance"]


def admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def prepare(url: str, wallets: int, hot: int) -> tuple[list[str], list[str]]:
    """Fresh database, migrated; wallet accounts opened as wallets_create opens them (one
    account, one balance shard, the wallet rule) and funded by one opening posting each."""
    import psycopg
    from django.core.management import call_command

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    import uuid

    from apps.ledger import selectors
    from apps.ledger.models import Account, Balance

    def open_accounts(prefix: str, n: int) -> list[str]:
        accounts = [
            Account(
                id=uuid.uuid4(),
                code=f"wallet:{prefix}-{i}",
                name=f"{prefix} {i}",
                type="liability",
                currency="EUR",
                owner_type="wallet",
                owner_id=f"{prefix}-{i}",
                rule="debits_must_not_exceed_credits",
            )
            for i in range(n)
        ]
        for a in accounts:
            a.full_clean(validate_unique=False)
        Account.objects.bulk_create(accounts, batch_size=2000)
        Balance.objects.bulk_create([Balance(account=a, shard=0) for a in accounts], 2000)
        return [str(a.id) for a in accounts]

    cold_ids, hot_ids = open_accounts("cold", wallets), open_accounts("hot", hot)
    opening = str(selectors.system_account_id(purpose="opening_balances", currency="EUR"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FILL_PROCEDURE)
        conn.execute("SET synchronous_commit = off")
        conn.execute("CALL bench_fund('fund-cold', %s, %s::uuid[], %s)", [opening, cold_ids, 10**9])
        conn.execute("CALL bench_fund('fund-hot', %s, %s::uuid[], %s)", [opening, hot_ids, 10**12])
    return hot_ids, cold_ids


def entry_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        # The sequence, not count(*): the fill checks it between batches.
        return conn.execute("SELECT last_value FROM ledger_entry_id_seq").fetchone()[0]


def fill(
    url: str, target: int, hot: list[str], cold: list[str], opts: argparse.Namespace, stage: int
) -> float:
    """Post transfers until the ledger holds `target` entries; returns seconds taken."""
    import psycopg

    start = time.perf_counter()
    batch = opts.batch
    errors: list[BaseException] = []

    def run(worker: int, posts: int, round_: int) -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SET synchronous_commit = off")
                conn.execute(
                    "CALL bench_fill(%s, %s, %s::uuid[], %s::uuid[], %s)",
                    [f"g{stage}-{round_}-{worker}", posts, hot, cold, opts.hot_share],
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    round_ = 0
    while (have := entry_count(url)) < target:
        posts = min(batch, (target - have + 1) // 2)
        per = max(1, math.ceil(posts / opts.workers))
        threads = [threading.Thread(target=run, args=(w, per, round_)) for w in range(opts.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        round_ += 1
        elapsed = time.perf_counter() - start
        have = entry_count(url)
        if round_ % 10 == 0:
            print(f"    {have:>12,} entries, {elapsed:7.0f} s", flush=True)
    return time.perf_counter() - start


def timed(fn, repeats: int) -> float:
    """Median milliseconds of `repeats` calls after one untimed warm-up call."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def deep_cursor(account_id: str) -> str:
    """The cursor the API would hand out at the entry halfway back in the account's history."""
    from apps.ledger import selectors
    from apps.ledger.models import Entry

    n = Entry.objects.filter(account_id=account_id).count()
    entry = Entry.objects.filter(account_id=account_id).order_by("-posted_at", "-pk")[n // 2]
    return selectors._encode_cursor(entry)  # the API's own cursor format


def measure(url: str, hot: str, cold: str, repeats: int) -> dict[str, float]:
    import psycopg
    from django.db import connection

    from apps.ledger import selectors, services

    with psycopg.connect(url, autocommit=True) as conn:
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        vacuum = time.perf_counter() - start
        conn.execute("CHECKPOINT")
        first, last = conn.execute(
            "SELECT min(posted_at), max(posted_at) FROM ledger_entry"
        ).fetchone()
        sizes = {
            t: conn.execute("SELECT pg_total_relation_size(%s)", [t]).fetchone()[0] / 2**20
            for t in TABLES
        }
        entries = conn.execute("SELECT count(*) FROM ledger_entry").fetchone()[0]
        per_account = {
            who: conn.execute(
                "SELECT count(*) FROM ledger_entry WHERE account_id = %s", [acc]
            ).fetchone()[0]
            for who, acc in (("hot", hot), ("cold", cold))
        }
    connection.close()
    middle: datetime = first + (last - first) / 2
    r: dict[str, float] = {"entries": entries, "vacuum_s": vacuum}
    for who, acc in (("hot", hot), ("cold", cold)):
        r[f"asof_{who}"] = timed(
            lambda acc=acc: selectors.account_balance_as_of(account_id=acc, as_of=middle), repeats
        )
        r[f"page1_{who}"] = timed(lambda acc=acc: selectors.entries_page(account_id=acc), repeats)
        cursor = deep_cursor(acc)
        r[f"deep_{who}"] = timed(
            lambda acc=acc, cursor=cursor: selectors.entries_page(account_id=acc, cursor=cursor),
            repeats,
        )
        r[f"n_{who}"] = per_account[who]
    start = time.perf_counter()
    report = services.verify()
    r["verify_ms"] = (time.perf_counter() - start) * 1000
    r["verify_ok"] = report.ok
    if not report.ok:
        print(f"  ledger_verify BREAKS: {report.breaks[:5]}", flush=True)
    r.update({f"size_{t}": s for t, s in sizes.items()})
    return r


ROWS = [
    ("asof_hot", "as-of balance, hot wallet (ms)"),
    ("asof_cold", "as-of balance, cold wallet (ms)"),
    ("page1_hot", "history first page, hot wallet (ms)"),
    ("deep_hot", "history deep page, hot wallet (ms)"),
    ("page1_cold", "history first page, cold wallet (ms)"),
    ("deep_cold", "history deep page, cold wallet (ms)"),
    ("verify_ms", "full verify (ms)"),
    ("vacuum_s", "VACUUM ANALYZE (s)"),
    ("size_ledger_entry", "ledger_entry + indexes (MiB)"),
    ("size_ledger_transaction", "ledger_transaction + indexes (MiB)"),
    ("size_core_outboxevent", "core_outboxevent + indexes (MiB)"),
    ("n_hot", "entries of the hot wallet"),
    ("n_cold", "entries of the cold wallet"),
]


def report(results: list[dict[str, float]]) -> None:
    head = "".join(f"{int(r['entries']):>14,}" for r in results)
    growth = "".join(
        f"{'x' + format(b['entries'] / a['entries'], '.1f'):>10}"
        for a, b in zip(results, results[1:], strict=False)
    )
    print(f"\n{'entries':<38}{head}   growth{growth}")
    for key, label in ROWS:
        values = "".join(
            f"{r[key]:>14,.0f}" if r[key] >= 100 else f"{r[key]:>14,.2f}" for r in results
        )
        ratios = "".join(
            f"{'x' + format(b[key] / a[key], '.2f') if a[key] else '-':>10}"
            for a, b in zip(results, results[1:], strict=False)
        )
        print(f"{label:<38}{values}         {ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--checkpoints", default="100000,1000000,10000000")
    parser.add_argument("--wallets", type=int, default=20_000)
    parser.add_argument("--hot", type=int, default=4)
    parser.add_argument("--hot-share", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20_000, help="postings a fill round")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--max-fill-minutes", type=float, default=45)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    opts = parser.parse_args()
    checkpoints = sorted({int(c) for c in opts.checkpoints.split(",") if int(c) <= opts.entries})
    if not checkpoints or checkpoints[-1] != opts.entries:
        checkpoints.append(opts.entries)
    django_setup(opts.database_url)
    print(
        f"preparing {opts.database_url} ({opts.wallets:,} wallets + {opts.hot} hot, "
        f"{opts.workers} filling sessions, {opts.hot_share:.0%} of transfers touch a hot one)...",
        flush=True,
    )
    start = time.perf_counter()
    hot, cold = prepare(opts.database_url, opts.wallets, opts.hot)
    print(f"  prepared in {time.perf_counter() - start:.0f} s", flush=True)
    results: list[dict[str, float]] = []
    fill_seconds, skipped, ok = 0.0, [], False
    try:
        for stage, target in enumerate(checkpoints):
            have = entry_count(opts.database_url)
            if fill_seconds and have < target:
                rate = have / fill_seconds  # entries/s so far (it falls as indexes grow)
                projected = fill_seconds + (target - have) / rate
                if projected > opts.max_fill_minutes * 60:
                    skipped = checkpoints[stage:]
                    print(
                        f"\nstopping before {target:,} entries: at {rate:,.0f} entries/s the fill "
                        f"would take ~{projected / 60:.0f} min, over --max-fill-minutes "
                        f"{opts.max_fill_minutes:.0f}",
                        flush=True,
                    )
                    break
            print(f"\nfilling to {target:,} entries...", flush=True)
            took = fill(opts.database_url, target, hot, cold, opts, stage)
            fill_seconds += took
            added = entry_count(opts.database_url) - have
            print(
                f"  +{added:,} entries in {took:.0f} s ({added / took:,.0f} entries/s, "
                f"{added / took / 2:,.0f} postings/s)",
                flush=True,
            )
            r = measure(opts.database_url, hot[0], cold[0], opts.repeats)
            r["fill_rate"] = added / took
            results.append(r)
            print(
                "  "
                + ", ".join(
                    f"{label.split(' (')[0]} {r[key]:,.2f}" for key, label in ROWS if key in r
                )
                + f", verify {'clean' if r['verify_ok'] else 'BREAKS'}",
                flush=True,
            )
        report(results)
        if skipped:
            print(f"\nnot reached (fill-time budget): {', '.join(f'{c:,}' for c in skipped)}")
        ok = all(r["verify_ok"] for r in results)
        print(
            f"\nledger_verify after {int(results[-1]['entries']):,} entries: "
            f"{'clean' if ok else 'BREAKS'}"
        )
    finally:
        if not opts.keep:
            import psycopg
            from django.db import connections

            connections.close_all()
            name = opts.database_url.rsplit("/", 1)[1]
            with psycopg.connect(admin_url(opts.database_url), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"dropped {name}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
