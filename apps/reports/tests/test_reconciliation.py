"""Reconciliation reports a clean day clean and finds each kind of break planted here."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.accounts import services as accounts_services
from apps.core.money import Money
from apps.payments import services as payments
from apps.payments.tests.factories import (
    bank_account,
    bank_answers,
    bank_forgets,
    bank_settles_unknown,
    committed,
    customer,
)
from apps.reports import services
from apps.reports.models import AccountDay, Break, SettlementLine
from apps.wallets import selectors as wallet_selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    """Two settled deposits today, their events counted."""
    user, wallet = committed(customer, funds=10_000)
    ids = []
    for key in ("a", "b"):
        payment_id = committed(
            payments.deposit_create,
            user_id=user.pk,
            wallet_id=wallet,
            funding_source_id=bank_account(user).pk
            if key == "a"
            else bank_account(user, "0009").pk,
            amount=Money(1_000, "EUR"),
            client_key=key,
        )
        bank_answers(payment_id)
        ids.append(str(payment_id))
    return timezone.now().date(), ids, wallet


def kinds(run):
    return sorted(run.breaks.values_list("kind", flat=True))


def test_a_clean_day_is_clean(day):
    run = services.reconcile(day=day[0])
    assert run.is_clean, list(run.breaks.values("kind", "reference", "detail"))
    assert kinds(run) == []
    run.full_clean()  # Model.clean() is reachable: a field once hid it
    with connection.cursor() as cursor:  # the column kept its name
        cursor.execute("SELECT clean FROM reports_reconciliationrun WHERE id = %s", [run.pk])
        assert cursor.fetchone() == (True,)


def test_a_hand_edited_stored_balance_is_found(day):
    _, _, wallet = day
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_balance SET posted_credits = posted_credits + 5 WHERE account_id = %s",
            [wallet_selectors.ledger_account_of(wallet_id=wallet)],
        )
    run = services.reconcile(day=day[0])
    assert "ledger_stored_balance" in kinds(run)
    assert "ledger_conservation" in kinds(run)


def test_a_line_missing_at_the_bank_and_one_missing_with_us_are_found(day):
    today, (first, second), _ = day
    bank_forgets(first)
    bank_settles_unknown(70)
    run = services.reconcile(day=today)
    assert kinds(run) == ["missing_at_provider", "missing_on_our_side"]


def test_an_uploaded_report_with_a_wrong_amount_is_found(day):
    today, (first, second), _ = day
    SettlementLine.objects.create(
        provider="simulated",
        day=today,
        reference=first,
        direction="collect",
        amount=1_000,
        currency="EUR",
    )
    SettlementLine.objects.create(
        provider="simulated",
        day=today,
        reference=second,
        direction="collect",
        amount=999,
        currency="EUR",
    )
    run = services.reconcile(day=today)
    assert kinds(run) == ["amount_mismatch"]
    assert run.breaks.get().detail["theirs"]["amount"] == 999


def test_read_model_drift_is_found(day):
    AccountDay.objects.filter(kind="deposit").first().delete()
    assert "read_model_drift" in kinds(services.reconcile(day=day[0]))


def test_breaks_alert_operations_and_the_command_fails(day, capsys):
    ops = get_user_model().objects.get(
        pk=accounts_services.staff_user_create(
            email="ops@finstack.test", role="operations", password="pw"
        )
    )
    AccountDay.objects.filter(kind="deposit").first().delete()
    with pytest.raises(SystemExit):
        call_command("reconcile", "--date", day[0].isoformat())
    assert "BREAK read_model_drift" in capsys.readouterr().out
    from apps.notifications import selectors as notifications_selectors

    inbox = notifications_selectors.inbox(user_id=ops.pk)
    assert list(inbox.values_list("kind", flat=True)) == ["reconciliation_breaks"]
    assert Break.objects.filter(status="open").count() == 1


def test_dashboard_and_break_pages(client, otp_login, day):
    AccountDay.objects.filter(kind="deposit").first().delete()
    services.reconcile(day=day[0])
    ops = get_user_model().objects.get(
        pk=accounts_services.staff_user_create(
            email="ops@finstack.test", role="operations", password="pw"
        )
    )
    otp_login(client, ops)
    board = client.get("/admin/dashboard/")
    assert board.status_code == 200
    assert b"Open reconciliation breaks" in board.content
    assert b"deposit" in board.content  # today's volumes
    assert client.get("/admin/reports/break/").status_code == 200
    assert client.get("/admin/reports/settlementline/import/").status_code == 200
    assert client.get("/admin/payments/payment/export/").status_code == 200


def test_a_retired_provider_does_not_stop_reconciliation_of_the_others(day):
    today, (first, second), _ = day
    bank_forgets(first)  # given: a real break at the simulated bank
    user, wallet = committed(customer, "old@example.com")  # and a payment of a bank we left:
    retired = committed(  # it is no longer configured, so its report cannot be fetched
        payments.deposit_create,
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=bank_account(user).pk,
        amount=Money(500, "EUR"),
        client_key="old",
    )
    bank_answers(retired)
    bank_forgets(retired)  # the simulated bank never had it
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_payment SET provider = 'oldbank' WHERE id = %s", [str(retired)]
        )

    run = services.reconcile(day=today)  # when

    assert run.finished_at is not None  # then: the run finishes and finds the real break
    assert kinds(run) == ["missing_at_provider", "settlement_report_unavailable"]
    unavailable = run.breaks.get(kind="settlement_report_unavailable")
    assert unavailable.reference == "oldbank"
    assert "unknown provider 'oldbank'" in unavailable.detail["error"]
    assert run.breaks.get(kind="missing_at_provider").reference == first
    assert run.summary["breaks"] == 2


def test_a_check_that_raises_becomes_a_break_and_the_others_still_run(day):
    today, (first, _), _ = day
    bank_forgets(first)
    database_refuses_ledger_verify_report()  # given: the ledger check cannot store its report

    run = services.reconcile(day=today)  # when

    assert run.finished_at is not None  # then
    assert kinds(run) == ["check_failed", "missing_at_provider"]
    failed = run.breaks.get(kind="check_failed")
    assert failed.reference == "ledger"
    assert "verification reports refused" in failed.detail["error"]


def database_refuses_ledger_verify_report() -> None:
    """PostgreSQL refuses new verification reports (a real database error, no Python
    patched), so the ledger check raises."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_report() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'verification reports refused'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_report BEFORE INSERT ON ledger_verificationreport"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_report()"
        )


def test_staff_filter_clean_runs_in_the_admin(day, client, otp_login):
    clean_run = services.reconcile(day=day[0])
    otp_login(client, get_user_model().objects.create_superuser("root@finstack.test", "pw"))
    url = "/admin/reports/reconciliationrun/"
    link = f"{url}{clean_run.pk}/change/"
    assert link in client.get(url, {"is_clean__exact": "1"}).content.decode()
    assert link not in client.get(url, {"is_clean__exact": "0"}).content.decode()
    detail = client.get(link)
    assert detail.status_code == 200
    assert "Clean" in detail.content.decode()
