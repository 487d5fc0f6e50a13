"""The supported currencies: seeded from the accounts that exist, enabled through a service
that creates their system accounts, and checked before money is accepted."""

import importlib

import pytest
from auditlog.models import LogEntry
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model

from apps.ledger import selectors, services
from apps.ledger.models import Account, Currency
from apps.ledger.tests.factories import open_wallet_account

pytestmark = pytest.mark.django_db
seed = importlib.import_module("apps.ledger.migrations.0008_supported_currencies").seed


def test_the_migration_enables_the_booked_currencies_and_gives_stranded_ones_accounts():
    # given: a JPY wallet account opened before currencies were checked, and no rows yet
    services.account_create(
        code="wallet:legacy-jpy",
        name="legacy",
        type="liability",
        currency="JPY",
        owner_type="wallet",
        owner_id="legacy-jpy",
    )
    Currency.objects.all().delete()

    seed(django_apps, None)  # when

    assert dict(Currency.objects.values_list("code", "enabled")) == {  # then
        "EUR": True,
        "GBP": True,
        "USD": True,
        "JPY": False,  # its money can be booked and leave; no new wallets or deposits in it
    }
    assert Account.objects.filter(code="bank_clearing:simulated:JPY").exists()
    assert selectors.currency_supported(code="JPY", incoming=False)
    assert not selectors.currency_supported(code="JPY")


def test_an_unknown_or_disabled_currency_is_refused_with_its_code():
    services.currency_disable(code="GBP")  # given

    for code, incoming in [("JPY", True), ("JPY", False), ("GBP", True)]:  # when
        with pytest.raises(services.CurrencyNotSupported) as refused:
            selectors.currency_check(code=code, incoming=incoming)
        assert (refused.value.code, refused.value.http_status) == ("currency_not_supported", 422)
        assert refused.value.details == {"currency": code}
    selectors.currency_check(code="GBP", incoming=False)  # then: its money may still leave
    selectors.currency_check(code="EUR")


def test_enabling_refuses_a_code_that_is_not_iso_4217_and_writes_nothing():
    before = Account.objects.count()
    with pytest.raises(ValueError, match="Unknown currency"):
        services.currency_enable(code="XYZ")
    assert Account.objects.count() == before
    assert not Currency.objects.filter(code="XYZ").exists()


def test_a_flushed_database_starts_with_the_configured_currencies(settings):
    Currency.objects.all().delete()
    settings.LEDGER_CURRENCIES = ["EUR", "CHF"]
    assert services.chart_ensure() == 5  # CHF's accounts; EUR's exist
    assert selectors.currency_codes() == ["CHF", "EUR"]
    assert open_wallet_account()  # the ledger still opens EUR accounts


def test_operations_disable_and_enable_a_currency_in_the_admin_audited(client, otp_login):
    staff = get_user_model().objects.create_superuser("ops@finstack.test", "pw")  # given
    otp_login(client, staff)
    url = "/admin/ledger/currency/"

    client.post(url, {"action": "disable", "_selected_action": ["USD"]})  # when
    disabled = selectors.currency_supported(code="USD")
    page = client.post(url, {"action": "enable", "_selected_action": ["USD"]}, follow=True)

    assert not disabled  # then
    assert selectors.currency_supported(code="USD")
    assert "USD: enabled, 0 accounts created." in page.content.decode()
    changes = LogEntry.objects.filter(content_type__app_label="ledger", object_pk="USD")
    assert [(e.actor, e.changes_dict["enabled"]) for e in changes.order_by("timestamp")] == [
        (staff, ["True", "False"]),
        (staff, ["False", "True"]),
    ]
    assert client.get(f"{url}USD/delete/").status_code == 403
