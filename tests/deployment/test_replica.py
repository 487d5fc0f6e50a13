"""The read side on a real streaming replica: history pages are served by it, and a client's
read right after its own write comes from the primary (finstack/replica.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.deployment.servers import primary_and_replica

ROOT = Path(__file__).resolve().parents[2]


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own code
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_history_reads_come_from_the_replica_except_right_after_ones_own_write():
    # Under /tmp, not pytest's tmp_path: the servers run as `postgres`, which cannot enter
    # another user's private temporary tree.
    base = Path(tempfile.mkdtemp(prefix="finstack-replica-"))
    base.chmod(0o755)
    try:
        _run_probe(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run_probe(base: Path) -> None:
    with primary_and_replica(base / "pg") as (primary, replica):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_SETTINGS_MODULE": "finstack.settings.test",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{primary}/finstack",
            "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{replica}/finstack",
            "PYTHONPATH": str(ROOT),
        }
        for step in (["manage.py", "migrate", "--no-input"], ["manage.py", "bootstrap"]):
            done = manage(env, *step)
            assert done.returncode == 0, done.stdout + done.stderr
        probe = manage(env, "tests/deployment/replica_probe.py")

    assert probe.returncode == 0, probe.stdout + probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["replica_in_recovery"] is True
    assert seen["transfer_status"] == 201
    assert seen["payer_right_after"] == [200, ["p2p", "opening"]]  # its own write: primary
    assert seen["replica_queries_for_the_writer"] == 0
    assert seen["payee_while_lagging"] == [200, []]  # served by the paused replica
    assert seen["replica_queries_for_the_reader"] > 0
    assert seen["payee_caught_up"] == [200, ["p2p"]]
