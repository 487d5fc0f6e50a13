"""Behind a real PgBouncer in transaction mode (Debian's 1.18, which cannot carry prepared
statements), with DB_PREPARED_STATEMENTS=false, concurrent transfers, history reads and
deposit sagas all succeed and every cent is where it should be; the outbox relay leaves
nothing behind and a beat job's lock still lets one run at a time. The same load with
server-side prepared statements breaks, which is why the setting exists."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.deployment.servers import pgbouncer

ROOT = Path(__file__).resolve().parents[2]
THREADS, EACH, AMOUNT, FUNDS = 8, 25, 100, 100_000  # as in pgbouncer_probe.py
DEPOSITS, DEPOSIT = 2, 1_000


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own code
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def migrated() -> Iterator[dict[str, str]]:
    """A database of its own on the machine's PostgreSQL, migrated directly (not through the
    pooler, as a deployment runs migrations); dropped afterwards."""
    if not shutil.which("pgbouncer") and not Path("/usr/sbin/pgbouncer").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have PgBouncer (apt-get install pgbouncer; see .ci/run)")
        pytest.skip("PgBouncer is not installed (apt-get install pgbouncer)")
    name = f"finstack_bouncer_{uuid.uuid4().hex[:8]}"
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "finstack.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "PYTHONPATH": str(ROOT),
    }
    try:
        for step in (["manage.py", "migrate", "--no-input"], ["manage.py", "bootstrap"]):
            done = run(env, *step)
            assert done.returncode == 0, done.stdout + done.stderr
        yield env | {"database": name}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def probe(env: dict[str, str], *, prepared: bool) -> dict:
    base = Path(tempfile.mkdtemp(prefix="finstack-bouncer-"))
    base.chmod(0o755)
    try:
        with pgbouncer(base / "pgbouncer") as port:
            done = run(
                env
                | {
                    "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/{env['database']}",
                    "DB_PREPARED_STATEMENTS": "true" if prepared else "false",
                    "CONN_MAX_AGE": "0",
                },
                "tests/deployment/pgbouncer_probe.py",
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert done.stdout.strip(), done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_transfers_through_pgbouncer_in_transaction_mode(migrated):
    seen = probe(migrated, prepared=False)

    assert seen["errors"] == []
    moved = THREADS * EACH * AMOUNT
    assert seen["payers"] == THREADS * (FUNDS + DEPOSITS * DEPOSIT) - moved
    assert seen["payees"] == moved
    assert seen["verified"] is True
    assert seen["undispatched"] == [], seen["undispatched"]
    # A beat job's lock: refused to a second run while held, granted again after release.
    assert (seen["refused_while_held"], seen["granted_after_release"]) == (20, 20)


def test_server_side_prepared_statements_break_behind_it(migrated):
    """The negative control: the default (prepared statements on) fails behind PgBouncer 1.18,
    so the passing test above depends on the setting, not on luck."""
    seen = probe(migrated, prepared=True)

    assert seen["error_count"] > 0
    assert any("prepared statement" in e for e in seen["errors"]), seen["errors"]
