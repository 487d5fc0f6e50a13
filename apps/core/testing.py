"""Helpers for tests that race real database connections from threads."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


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
