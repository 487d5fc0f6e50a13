"""apps.core.db.scalar: the libpq path keeps what Django's cursor guarantees (transactions,
errors, execute wrappers, the query log) and lets other threads run while it waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from django.db import DataError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.core import db

XID = "SELECT pg_current_xact_id()::text || %s"
INSERT = (
    "INSERT INTO core_outboxevent (id, type, payload, request_id, created_at, attempts,"
    " next_attempt_at, last_error) VALUES (gen_random_uuid(), %s, '{}', '', now(), 0, now(), '')"
    " RETURNING type"
)
COUNT = "SELECT count(*)::text FROM core_outboxevent WHERE type = %s"


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_each_statement_is_its_own_transaction():
    assert db.scalar(XID, "") != db.scalar(XID, "")


@pytest.mark.django_db(transaction=True)
def test_the_first_statement_of_an_atomic_block_runs_inside_it():
    # psycopg sends BEGIN with the next statement it runs: straight to libpq there would be
    # no BEGIN, and each statement would commit on its own.
    with transaction.atomic():
        first = db.scalar(XID, "")
        second = db.scalar(XID, "")
    assert first == second


def divide_by_zero() -> None:
    db.scalar("SELECT (1 / %s::int)::text", "0")


def raise_runtime_error() -> None:
    raise RuntimeError


def write_in_a_block_then(failure: Callable[[], None]) -> None:
    with transaction.atomic():
        db.scalar("SELECT %s::text", "begin")  # psycopg has begun; the next ones are libpq's
        db.scalar(INSERT, "test.failed_block")
        failure()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("failure", "error"),
    [(raise_runtime_error, RuntimeError), (divide_by_zero, DataError)],
    ids=["the caller fails", "a statement fails"],
)
def test_a_block_that_fails_keeps_nothing_written_through_it(failure, error):
    with pytest.raises(error):
        write_in_a_block_then(failure)
    assert db.scalar(COUNT, "test.failed_block") == "0"


@pytest.mark.django_db(transaction=True)
def test_errors_are_djangos_with_the_drivers_as_cause_and_the_connection_stays_usable():
    with pytest.raises(DataError) as caught:
        divide_by_zero()
    assert isinstance(caught.value.__cause__, psycopg.errors.DivisionByZero)
    assert caught.value.__cause__.sqlstate == "22012"
    assert db.scalar("SELECT %s::text", "still here") == "still here"


@pytest.mark.django_db(transaction=True)
def test_a_killed_connection_is_an_operational_error_and_the_next_call_reconnects():
    pid = db.scalar("SELECT pg_backend_pid()::text || %s", "")
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s::int)", [pid])
    with pytest.raises(OperationalError):
        db.scalar("SELECT %s::text", "to a dead backend")
    connection.close()  # what Django does at the end of a request with errors_occurred set
    assert db.scalar("SELECT %s::text", "back") == "back"


@pytest.mark.django_db
def test_execute_wrappers_see_the_statement():
    seen = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append((sql, params, context["connection"]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert db.scalar("SELECT %s::text", "x") == "x"
    assert seen == [("SELECT %s::text", ["x"], connection)]


@pytest.mark.django_db
def test_the_query_log_records_the_statement():
    with CaptureQueriesContext(connection) as captured:
        assert db.scalar("SELECT %s::text", "logged") == "logged"
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT 'logged'::text"]


@pytest.mark.django_db
def test_other_threads_run_while_it_waits():
    db.scalar("SELECT %s::text", "connected")  # connect first: only the wait is measured
    ticks, stop = [0], threading.Event()

    def count() -> None:
        while not stop.is_set():
            ticks[0] += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        time.sleep(0.1)  # releases the GIL: the counter's rate, alone
        before = ticks[0]
        db.scalar("SELECT pg_sleep(%s::float)::text", "0.3")
        during = ticks[0] - before
    finally:
        stop.set()
        counter.join()
    # Holding the GIL for the 0.3 s would leave the counter one switch interval (5 ms) of it.
    assert during > before * 0.3 / 0.1 / 4
