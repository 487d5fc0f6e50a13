"""Helpers for tests: racing real database connections from threads; a record the database
refuses to change (a poison record for the beat jobs' tests)."""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections


def run_threads(count: int, target: Callable[[int], Any]) -> tuple[list[Any], list[Exception]]:
    """Start `count` threads on `target(n)` at once (a barrier); return results and errors.
    Each thread has its own database connection, closed when it ends."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    failures: list[Exception] = []

    def body(n: int) -> None:
        try:
            barrier.wait()
            results[n] = target(n)
        except Exception as exc:  # noqa: BLE001 - handed to the test, which asserts on it
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, failures


def database_refuses_changes(table: str, pk: Any) -> None:
    """From now on (until the test's transaction ends) PostgreSQL refuses every UPDATE and
    DELETE of this one row, as a broken row or a failing constraint would: a real database
    error for the code under test, no Python patched."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION test_refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'this row cannot be changed (%)', OLD.id; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_refuse_{table} BEFORE UPDATE OR DELETE ON {table}"  # noqa: S608
            f" FOR EACH ROW WHEN (OLD.id::text = '{pk}') EXECUTE FUNCTION test_refuse_row()"
        )


def wait_for(predicate: Callable[[], object], timeout: float = 15.0) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())
