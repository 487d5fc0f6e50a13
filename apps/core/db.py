"""One statement straight through libpq, for the ledger's posting calls.

A posting is one call of a PostgreSQL function, and its client's CPU competes with PostgreSQL
for the same cores. Django's cursor and psycopg's Python-level execute cost that call more
CPU than the round trip itself (docs/performance.md); libpq's PQexecParams does the same round
trip (blocking, with the GIL released) for a fraction of it. Everything Django's cursor does
around a statement is kept: the health check, the broken-transaction check, error wrapping
(Django's exceptions with the driver's as `__cause__`) and the execute wrappers (request
metrics count this statement). It falls back to Django's cursor where that does more: when
statements are logged (DEBUG, a test's query capture), and when psycopg has a transaction still
to begin (Django's atomic block before its first statement: psycopg sends BEGIN with the next
statement it runs itself).
"""

from __future__ import annotations

import functools
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.asyncio import async_unsafe
from psycopg import errors, pq


@async_unsafe
def scalar(query: str, param: str, connection: BaseDatabaseWrapper | None = None) -> str:
    """Run `query`, which has one `%s`, with `param`; the first row's first column, as text.
    `connection`: the default database's, if the caller has looked it up already."""
    # The connection looked up once: each attribute read through `django.db.connection`
    # looks it up again in a thread-and-task local, eight of them a call.
    if connection is None:
        connection = connections[DEFAULT_DB_ALIAS]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    raw = connection.connection
    begun = raw.autocommit or raw.pgconn.transaction_status == pq.TransactionStatus.INTRANS
    if connection.queries_logged or not begun:
        with connection.cursor() as cursor:
            cursor.execute(query, [param])
            return cast(str, cursor.fetchone()[0])  # text: Django loads json and jsonb as text
    execute = _run
    for wrapper in connection.execute_wrappers:  # as Django nests them: the last is outermost
        execute = functools.partial(wrapper, execute)
    # Wrappers get the connection in their context, and no cursor: there is none.
    with connection.wrap_database_errors:
        return execute(query, [param], False, {"connection": connection, "cursor": None})


def _run(query: str, params: list[str], many: bool, context: dict[str, Any]) -> str:
    raw = context["connection"].connection
    with raw.lock:
        result = raw.pgconn.exec_params(_libpq_form(query), [params[0].encode()])
    if result.status != pq.ExecStatus.TUPLES_OK:
        encoding = raw.info.encoding
        if raw.pgconn.status == pq.ConnStatus.BAD:  # the connection failed, not the statement
            raise errors.OperationalError(result.get_error_message(encoding))
        raise errors.error_from_result(result, encoding=encoding)
    return cast(bytes, result.get_value(0, 0)).decode()


@functools.cache
def _libpq_form(query: str) -> bytes:
    return query.replace("%s", "$1").encode()
