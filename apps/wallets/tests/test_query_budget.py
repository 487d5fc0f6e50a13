"""A P2P transfer's round trips to PostgreSQL, counted: the money path is kept to a few
statements (the API benchmark's figures depend on it), so a change that adds one shows here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.wallets.models import Wallet
from apps.wallets.services.limits import _WALLET_FIELDS
from apps.wallets.tests.factories import make_wallet
from apps.wallets.tests.test_api_transfers import send

pytestmark = pytest.mark.django_db
# Idempotency claim and answer; the gate lock with both wallets; both parties' limits; the
# posting (which checks the recipient's maximum balance); the count with the transfer row and
# its event; this test's savepoint pair. Under gunicorn the JWT adds its session read (with
# the user's row).
BUDGET = 8


def test_a_transfer_costs_at_most_its_budget_of_statements(
    auth_client, django_capture_on_commit_callbacks
):
    source, target = make_wallet(funded=1000), make_wallet()
    client = auth_client(source.owner)
    send(client, source, target.pk, 1, key="warm-up")  # first-use lookups (content types...)
    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as captured:
        response = send(client, source, target.pk, 250, key="counted")
    assert response.status_code == 201
    statements = [query["sql"][:120] for query in captured.captured_queries]
    assert len(statements) <= BUDGET, "\n".join(statements)


def test_the_transfers_written_out_wallet_read_takes_every_column():
    assert [field.attname for field in Wallet._meta.concrete_fields] == _WALLET_FIELDS
