"""Settlement lines cannot be edited once uploaded; every break change is in the staff log."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from apps.accounts import services as accounts_services
from apps.reports import services
from apps.reports.models import Break, ReconciliationRun, SettlementLine

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 1)


def _ops():
    return get_user_model().objects.get(
        pk=accounts_services.staff_user_create(
            email="ops@finstack.test", role="operations", password="pw"
        )
    )


def _line():
    return SettlementLine.objects.create(
        provider="simulated",
        day=DAY,
        reference="pay-1",
        direction="collect",
        amount=-1_000,
        currency="EUR",
    )


def _break():
    run = ReconciliationRun.objects.create(day=DAY)
    return Break.objects.create(run=run, kind="amount_mismatch", reference="pay-1")


def test_an_uploaded_settlement_line_cannot_be_updated_in_the_database():
    line = _line()  # given
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():  # when
        SettlementLine.objects.filter(pk=line.pk).update(amount=1_000)
    line.refresh_from_db()  # then
    assert line.amount == -1_000


def test_an_uploaded_settlement_line_cannot_be_deleted_in_the_database():
    line = _line()  # given
    with (  # when
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM reports_settlementline WHERE id = %s", [line.pk])
    assert SettlementLine.objects.filter(pk=line.pk, amount=-1_000).exists()  # then


def test_the_admin_shows_a_settlement_line_read_only(client, otp_login, admin_user):
    line = _line()  # given
    otp_login(client, admin_user)
    page = client.get(f"/admin/reports/settlementline/{line.pk}/change/")  # when
    assert page.status_code == 200  # then
    assert b'name="amount"' not in page.content
    assert b"-1000" in page.content
    posted = client.post(  # when
        f"/admin/reports/settlementline/{line.pk}/change/",
        {
            "provider": "simulated",
            "day": "2026-12-01",
            "reference": "pay-1",
            "direction": "collect",
            "amount": "1000",
            "currency": "EUR",
        },
    )
    assert posted.status_code == 403  # then
    line.refresh_from_db()
    assert line.amount == -1_000
    assert (
        client.post(f"/admin/reports/settlementline/{line.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert SettlementLine.objects.filter(pk=line.pk).exists()


def test_a_break_resolution_writes_who_what_before_and_after_to_the_staff_log():
    item, ops = _break(), _ops()  # given
    services.break_update(  # when
        break_id=item.pk, status="resolved", staff_id=ops.pk, note="provider fee, booked"
    )
    item.refresh_from_db()  # then
    assert (item.status, item.assigned_to_id, item.note) == (
        "resolved",
        ops.pk,
        "provider fee, booked",
    )
    entry = LogEntry.objects.get_for_object(item).get(action=LogEntry.Action.UPDATE)
    assert entry.actor_id == ops.pk
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.changes_dict["status"] == ["open", "resolved"]
    assert entry.changes_dict["note"] == ["", "provider fee, booked"]


def test_a_break_changed_in_the_admin_goes_through_the_audited_service(
    client, otp_login, admin_user
):
    item = _break()  # given
    otp_login(client, admin_user)
    url = f"/admin/reports/break/{item.pk}/change/"
    response = client.post(url, {"status": "resolved", "note": "duplicate"})  # when
    assert response.status_code == 302  # then
    item.refresh_from_db()
    assert (item.status, item.assigned_to_id, item.note) == ("resolved", admin_user.pk, "duplicate")
    entry = LogEntry.objects.get_for_object(item).get(action=LogEntry.Action.UPDATE)
    assert entry.actor_id == admin_user.pk
    assert entry.changes_dict["status"] == ["open", "resolved"]
    log_page = client.get(f"/admin/auditlog/logentry/{entry.pk}/change/")
    assert log_page.status_code == 200
    assert b"resolved" in log_page.content
