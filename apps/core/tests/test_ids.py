import time
from datetime import UTC, datetime
from uuid import UUID

import pytest
from django.db import connection

from apps.core.ids import uuid7


def millis(value: UUID) -> int:
    return value.int >> 80


def test_python_ids_are_version_7_and_ordered_by_time():
    before = time.time_ns() // 1_000_000
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert (first.version, first.variant) == (7, "specified in RFC 4122")
    assert before <= millis(first) < millis(second) <= time.time_ns() // 1_000_000
    assert first < second  # a later id sorts after: inserts land on the index's right edge
    assert len({uuid7() for _ in range(10_000)}) == 10_000  # 74 random bits per millisecond


@pytest.mark.django_db
def test_sql_ids_are_version_7_with_the_same_clock_as_python():
    with connection.cursor() as cursor:
        cursor.execute("SELECT core_uuid7(), core_uuid7()")
        first, second = cursor.fetchone()
    assert (first.version, first.variant, second.version) == (7, "specified in RFC 4122", 7)
    assert first != second
    stamp = datetime.fromtimestamp(millis(first) / 1000, tz=UTC)
    assert abs((datetime.now(tz=UTC) - stamp).total_seconds()) < 5
