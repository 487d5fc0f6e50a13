from collections.abc import Callable

import pytest
from django.db import connection

from apps.core.models import OutboxEvent
from apps.ledger.models import Entry, Hold, Transaction


@pytest.fixture
def ledger_state() -> Callable[[], tuple[int, int, int, int, tuple]]:
    """A snapshot of everything a refused operation must leave untouched."""

    def snapshot() -> tuple[int, int, int, int, tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sum(posted_debits), sum(posted_credits), sum(pending_debits),"
                " sum(pending_credits), sum(seq) FROM ledger_balance"
            )
            balances = cursor.fetchone()
        return (
            Transaction.objects.count(),
            Entry.objects.count(),
            Hold.objects.count(),
            OutboxEvent.objects.count(),
            balances,
        )

    return snapshot
