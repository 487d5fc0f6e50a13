"""Marking a sent batch must cost the batch, not the backlog: in an outage the undispatched
rows pile up while the table's statistics still see them as none."""

import json

import pytest
from django.db import connection

from apps.core import outbox
from apps.core.models import OutboxEvent

pytestmark = pytest.mark.django_db

# The form this replaced: the planner may scan the whole partial index instead of the ids.
FILTERED_SQL = outbox.MARK_DISPATCHED_SQL + " AND o.dispatched_at IS NULL"
BACKLOG = 5000


def _insert(count: int, *, dispatched: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_outboxevent (id, type, payload, request_id, created_at,"
            " dispatched_at, attempts, next_attempt_at, last_error)"
            " SELECT core_uuid7(), 'core.test', '{}', '', now(),"
            " CASE WHEN %s THEN now() END, 0, now(), '' FROM generate_series(1, %s)",
            [dispatched, count],
        )


def _rows_read_to_mark(sql: str, ids: list) -> int:
    """Rows the statement's scans of the outbox table returned, over all their loops."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, [False, [], ids])
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def read(node: dict) -> int:
        own = node["Actual Rows"] * node["Actual Loops"] if "Scan" in node["Node Type"] else 0
        own = own if node.get("Relation Name") == "core_outboxevent" else 0
        return own + sum(read(child) for child in node.get("Plans", []))

    return read(plan[0]["Plan"])


@pytest.fixture
def backlog_unseen_by_statistics():
    """Statistics taken while nothing waited, then a backlog (as after a broker outage)."""
    _insert(200, dispatched=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_outboxevent")
    _insert(BACKLOG, dispatched=False)
    return list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True)[:2]
    )


def test_marking_two_events_reads_those_two_rows_whatever_waits(backlog_unseen_by_statistics):
    assert _rows_read_to_mark(outbox.MARK_DISPATCHED_SQL, backlog_unseen_by_statistics) == 2


def test_negative_control_the_filtered_form_reads_the_backlog(backlog_unseen_by_statistics):
    assert _rows_read_to_mark(FILTERED_SQL, backlog_unseen_by_statistics) >= BACKLOG


def test_marking_keeps_the_first_time_and_marks_only_the_batch():
    _insert(3, dispatched=False)
    first, second, third = OutboxEvent.objects.order_by("pk")
    outbox.mark_dispatched([first.pk])
    marked_at = OutboxEvent.objects.get(pk=first.pk).dispatched_at
    outbox.mark_dispatched([first.pk, second.pk])
    rows = {row.pk: row.dispatched_at for row in OutboxEvent.objects.all()}
    assert rows[first.pk] == marked_at
    assert rows[second.pk] is not None
    assert rows[third.pk] is None
