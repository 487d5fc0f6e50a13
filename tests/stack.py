"""The real stack as whole-system tests start it: gunicorn and a Celery worker (a real queue,
not eager tasks) on the test database, as processes of their own."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

from apps.core.testing import wait_for

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        probe.request("GET", "/healthz")
        return probe.getresponse().status == 200
    except OSError:
        return False
    finally:
        probe.close()


def stop(process: subprocess.Popen[Any]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def environment(settings_module: str, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def gunicorn(env: dict[str, str], port: int, log: Path, workers: int = 2) -> subprocess.Popen[Any]:
    with log.open("w") as out:
        return subprocess.Popen(  # noqa: S603 - our interpreter and arguments
            [
                *(sys.executable, "-m", "gunicorn", "finstack.wsgi:application"),
                *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
                *("--worker-class", "gthread", "--threads", "4"),
                *("--log-level", "warning", "--timeout", "60"),
            ],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=out,
        )  # fmt: skip


@contextmanager
def running(
    tmp_path: Path, settings_module: str = "tests.stack_settings", **extra: str
) -> Iterator[str]:
    """gunicorn and a Celery worker on the test database's queue; yields the base URL."""
    env = environment(settings_module, **extra)
    port = free_port()
    queue = f"test-{connection.settings_dict['NAME']}"
    with ExitStack() as stack:
        web = gunicorn(env, port, tmp_path / "gunicorn.log")
        stack.callback(stop, web)
        with (tmp_path / "worker.log").open("w") as out:
            worker = subprocess.Popen(  # noqa: S603
                [
                    str(Path(sys.executable).parent / "celery"), "-A", "finstack", "worker",
                    "-Q", queue, "--pool", "threads", "--concurrency", "4",
                    "--loglevel", "WARNING",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                ],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        stack.callback(stop, worker)
        if not wait_for(lambda: healthy(port), timeout=30):
            raise RuntimeError("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text())
        yield f"http://127.0.0.1:{port}"
