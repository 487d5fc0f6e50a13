"""Another system connects as it would in production: a separate process with only HTTP and
an API key (tests/integration/partner.py) registers its webhook receiver, opens ledger
accounts, posts and reverses, against gunicorn and a Celery worker on the test database. Its
receiver gets each posting signed. Then its key is rolled and its webhook secret rotated
while it keeps working: no request refused, no delivery lost or unverifiable.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from apps.accounts import services as accounts_services
from apps.core import signing
from apps.core.testing import wait_for
from apps.ledger.models import Transaction
from apps.webhooks.models import Delivery
from apps.webhooks.tests.receiver import Receiver, serving
from tests.stack import ROOT, running

pytestmark = pytest.mark.django_db(transaction=True)
PARTNER = ROOT / "tests" / "integration" / "partner.py"
SCOPES = ["ledger:read", "ledger:write", "webhooks:read", "webhooks:write"]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[str]:
    with running(tmp_path) as base:
        yield base


def _partner(base: str, key: str, receiver: Receiver, phase: str, *extra: str) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our interpreter and script
        [sys.executable, str(PARTNER), base, key, receiver.url, phase, *extra],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _events(receiver: Receiver) -> dict[str, Any]:
    """The transaction ids the receiver got, each verified; by transaction id."""
    return {got.json()["data"]["transaction_id"]: got for got in receiver.received}


def test_a_second_process_posts_and_reverses_and_receives_signed_webhooks(stack: str) -> None:
    key = accounts_services.api_key_create(
        name="Card processor", namespace="cards", scopes=SCOPES, created_by_id=None
    )
    with serving() as receiver:
        first = _partner(stack, key.key, receiver, "first")

        assert wait_for(lambda: len(receiver.received) >= 2, timeout=30), Delivery.objects.all()
        events = _events(receiver)
        assert set(events) == {first["posted"], first["reversal"]}
        for got in events.values():
            signing.verify(got.body, got.headers["Finstack-Signature"], first["secret"])
            assert got.json()["type"] == "ledger.transaction_posted"
        assert events[first["reversal"]].json()["data"]["reverses"] == first["posted"]
        assert first["card_posted"] == 0  # posted and reversed
        assert Transaction.objects.get(pk=first["reversal"]).reverses_id is not None

        # The key is rolled (old valid an hour more) and the partner deploys the new one; it
        # rotates its webhook secret and carries on. Its receiver still holds the old secret.
        rolled = accounts_services.api_key_roll(
            key_id=key.key_id, rolled_by_id=None, overlap=timedelta(hours=1)
        )
        second = _partner(stack, rolled.key, receiver, "second", first["endpoint_id"])

        assert wait_for(lambda: len(receiver.received) >= 3, timeout=30)
        got = _events(receiver)[second["posted"]]
        header = got.headers["Finstack-Signature"]
        signing.verify(got.body, header, first["secret"])  # receivers not yet switched
        signing.verify(got.body, header, second["secret"])  # and those already switched
        assert second["card_posted"] == 2_500
        time.sleep(0.5)
        assert len(receiver.received) == 3  # each event once: nothing lost, nothing doubled
    statuses = set(Delivery.objects.values_list("status", flat=True))
    assert statuses == {"succeeded"}
