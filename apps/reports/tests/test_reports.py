"""Read models follow the ledger exactly once per transaction and equal a rebuild; statements
match the ledger (CSV and a PDF that parses back); the summary."""

import csv
import io
import random

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone
from pypdf import PdfReader

from apps.core import outbox
from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.kyc.tests.factories import set_limits
from apps.ledger import selectors as ledger_selectors
from apps.payments import services as payments
from apps.payments.tests.factories import bank_account, bank_answers, committed, customer
from apps.reports import selectors, services
from apps.reports.models import AccountDay, KindDay
from apps.wallets import selectors as wallet_selectors
from apps.wallets import services as wallet_services

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list, list]:
    return (
        sorted(
            AccountDay.objects.values_list(
                "account_id", "day", "kind", "debits", "credits", "entries"
            )
        ),
        sorted(KindDay.objects.values_list("day", "currency", "kind", "transactions", "amount")),
    )


@pytest.fixture
def workload():
    """A random day of transfers and deposits, every event handled as after commit."""
    set_limits(1, per_transaction=10**9, daily=10**9, monthly=10**9, max_balance=10**9)
    people = [committed(customer, f"r{n}@example.com", funds=50_000) for n in range(3)]
    banks = {user.pk: (bank_account(user, "0002"), bank_account(user)) for user, _ in people}
    rng = random.Random(7)
    for n in range(15):
        user, wallet = people[rng.randrange(3)]
        if rng.random() < 0.6:
            _, target = people[(people.index((user, wallet)) + 1) % 3]
            committed(
                wallet_services.transfer_create,
                source_wallet_id=wallet,
                destination=str(target),
                amount=Money(rng.randrange(1, 900), "EUR"),
                requested_by_id=user.pk,
                idempotency_key=f"t{n}",
            )
        else:
            payment_id = committed(
                payments.deposit_create,
                user_id=user.pk,
                wallet_id=wallet,
                funding_source_id=banks[user.pk][n % 2].pk,
                amount=Money(rng.randrange(100, 5_000), "EUR"),
                client_key=f"d{n}",
            )
            bank_answers(payment_id)
    return people


def test_read_models_equal_a_rebuild_from_the_ledger(workload):
    live = snapshot()
    assert live[0]  # the events really were counted
    assert services.rebuild() >= 10
    assert snapshot() == live


def test_a_replayed_event_is_not_counted_twice(workload):
    before = snapshot()
    event = OutboxEvent.objects.filter(type="ledger.transaction_posted").last()
    from apps.core.events import decode
    from apps.reports.handlers import count_transaction

    count_transaction(decode(event.type, event.payload))  # the outbox delivers it again
    with TestCase.captureOnCommitCallbacks(execute=True):
        OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
        outbox.dispatch(event.pk, event.type)
    assert snapshot() == before


def test_daily_snapshots_and_summary_follow_the_wallet(workload):
    user, wallet = workload[0]
    account = wallet_selectors.ledger_account_of(wallet_id=wallet)
    today = timezone.now().date()
    [day] = selectors.daily_snapshots(account_id=account, since=today, until=today)
    posted = ledger_selectors.account_balance(account_id=account).posted.amount
    assert day["closing"] == posted
    assert day["opening"] + day["credits"] - day["debits"] == day["closing"]
    summary = selectors.summary(account_id=account, since=today, until=today)
    assert set(summary["by_kind"]) <= {"opening", "p2p", "deposit"}
    assert summary["by_month"][today.strftime("%Y-%m")]["in"] == day["credits"]


def test_statement_csv_and_pdf_match_the_ledger(workload, auth_client):
    user, wallet = workload[0]
    client = auth_client(user)
    month = timezone.now().strftime("%Y-%m")
    response = client.get(f"/api/v1/reports/statements?wallet={wallet}&month={month}&format=csv")
    assert response.status_code == 200, response.content
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    lines = rows[2:-1]
    running = int(rows[1][5])
    for line in lines:
        running += int(line[4])
        assert int(line[5]) == running
    posted = ledger_selectors.account_balance(
        account_id=wallet_selectors.ledger_account_of(wallet_id=wallet)
    ).posted.amount
    assert int(rows[-1][5]) == posted

    pdf = client.get(f"/api/v1/reports/statements?wallet={wallet}&month={month}&format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Finstack account statement" in text
    assert str(Money(posted, "EUR")) in text


def test_statements_of_someone_elses_wallet_are_not_found(workload, auth_client):
    (_, wallet), (other, _) = workload[0], workload[1]
    response = auth_client(other).get(f"/api/v1/reports/statements?wallet={wallet}&month=2026-01")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "wallet_not_found")
    bad = auth_client(other).get(f"/api/v1/reports/statements?wallet={wallet}&month=2026-13")
    assert bad.status_code == 400


def test_rebuild_command(workload, capsys):
    call_command("reports_rebuild", "--since", timezone.now().date().isoformat())
    assert "rebuilt from" in capsys.readouterr().out
