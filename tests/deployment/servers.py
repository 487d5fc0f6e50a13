"""Real servers a test owns. PostgreSQL: a throwaway primary (initdb in a temporary directory,
its own port, replication allowed from 127.0.0.1) and a streaming replica of it
(`pg_basebackup -R`), both run as the `postgres` user and stopped by the test. The machine's
own server does not allow replication connections, hence a primary of our own. PgBouncer
(Debian's package) in transaction mode in front of a server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def _bin(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*args: str) -> None:
    command = list(args) if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)}: {done.stdout}{done.stderr}")


def _start(data: Path, port: int) -> None:
    _as_postgres(
        _bin("pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60",
        "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {data}", "start",
    )  # fmt: skip


def _stop(data: Path) -> None:
    subprocess.run(  # noqa: S603
        (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
        + [_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
        capture_output=True,
        timeout=60,
        check=False,
    )


@contextmanager
def primary_and_replica(base: Path) -> Iterator[tuple[int, int]]:
    """Yields (primary port, replica port); database `finstack` on both, user `postgres`."""
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    primary, replica = base / "primary", base / "replica"
    _as_postgres(_bin("initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write("wal_level = replica\nmax_wal_senders = 5\nfsync = off\n")
    with (primary / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    p_port, r_port = free_port(), free_port()
    _start(primary, p_port)
    try:
        _as_postgres(
            _bin("createdb"), "-h", "127.0.0.1", "-p", str(p_port), "-U", "postgres", "finstack"
        )
        _as_postgres(
            _bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(p_port), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream",
        )  # fmt: skip
        _start(replica, r_port)
        try:
            yield p_port, r_port
        finally:
            _stop(replica)
    finally:
        _stop(primary)


@contextmanager
def pgbouncer(base: Path, *, pg_port: int = 5432, pool_size: int = 3) -> Iterator[int]:
    """A PgBouncer in transaction mode in front of a PostgreSQL on 127.0.0.1 (trust auth), with
    fewer server connections than clients, so clients share them transaction by transaction.
    Yields its port. Run as `postgres` (PgBouncer refuses root)."""
    found = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    port = free_port()
    (base / "users.txt").write_text('"postgres" ""\n')
    (base / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host=127.0.0.1 port={pg_port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {base / 'users.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n"
        f"logfile = {base / 'pgbouncer.log'}\npidfile = {base / 'pgbouncer.pid'}\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    _as_postgres(found, "-d", str(base / "pgbouncer.ini"))
    try:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port
    finally:
        pid = (
            (base / "pgbouncer.pid").read_text().strip()
            if (base / "pgbouncer.pid").exists()
            else ""
        )
        if pid:
            os.kill(int(pid), signal.SIGTERM)
