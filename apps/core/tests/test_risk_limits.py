"""Risk thresholds as data: compliance edits them in the admin, the change is in the staff
log, and the next P2P transfer meets the new threshold; other roles cannot edit them."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import connection

from apps.accounts import services as accounts_services
from apps.core.models import RiskLimit
from apps.kyc.tests.factories import set_limits
from apps.ledger import selectors as ledger_selectors
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db
URL = "/admin/core/risklimit/"
BIG = 10**12


def staff(role):
    user_id = accounts_services.staff_user_create(
        email=f"{role}@finstack.test", role=role, password="pw"
    )
    return get_user_model().objects.get(pk=user_id)


def send(api, source, target, amount, key):
    return api.post(
        "/api/v1/transfers",
        {
            "source_wallet": str(source.pk),
            "destination": str(target.pk),
            "amount": amount,
            "currency": "EUR",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def entries() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_entry")
        return cursor.fetchone()[0]


def test_compliance_lowers_the_deny_threshold_and_the_next_transfer_is_refused(
    client, otp_login, auth_client
):
    set_limits(per_transaction=BIG, daily=BIG, monthly=BIG, max_balance=BIG)
    payer, payee = make_user("pia@example.com"), make_user("paul@example.com")
    source, target = make_wallet(payer, funded=500_000), make_wallet(payee)
    api = auth_client(payer)
    assert send(api, source, target, 30_000, "k-1").status_code == 201  # given: allowed today
    otp_login(client, staff("compliance"))

    added = client.post(  # when: compliance sets EUR's thresholds
        f"{URL}add/",
        {"currency": "EUR", "review": 10_000, "deny": 20_000, "review_per_day": BIG},
    )
    before = entries()
    refused = send(api, source, target, 30_000, "k-2")

    assert added.status_code == 302, added.content.decode()[:2000]  # then
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "risk_denied"
    assert entries() == before  # nothing moved
    balance = ledger_selectors.account_balance(account_id=source.ledger_account_id)
    assert balance.available.amount == 470_000
    review = send(api, source, target, 15_000, "k-3")
    assert (review.status_code, review.json()["status"]) == (202, "review")
    log = LogEntry.objects.get(content_type__model="risklimit", object_pk="EUR")
    assert log.actor.email == "compliance@finstack.test"
    assert log.changes_dict["deny"] == ["None", "20000"]


def test_a_deny_threshold_below_review_is_refused_in_the_form(client, otp_login):
    otp_login(client, staff("compliance"))

    page = client.post(
        f"{URL}add/", {"currency": "default", "review": 5_000, "deny": 4_000, "review_per_day": 1}
    )

    assert page.status_code == 200
    assert "deny is above review" in page.content.decode()
    assert not RiskLimit.objects.exists()


@pytest.mark.parametrize("role", ["operations", "support"])
def test_other_roles_cannot_edit_the_thresholds(client, otp_login, role):
    otp_login(client, staff(role))

    page = client.post(
        f"{URL}add/", {"currency": "EUR", "review": 1, "deny": 2, "review_per_day": 1}
    )

    assert page.status_code == 403
    assert not RiskLimit.objects.exists()


def test_rows_replace_the_settings_per_currency_and_the_default_row_the_rest(settings):
    from apps.core import risk

    settings.PAYMENTS_RISK = {
        "amount": {
            "default": {"review": 100, "deny": 200, "review_per_day": 300},
            "GBP": {"review": 10, "deny": 20, "review_per_day": 30},
        },
        "max_per_hour": 5,
    }
    RiskLimit.objects.create(
        currency="default", review=1_000, deny=2_000, review_per_day=3_000, max_per_hour=1
    )
    risk.forget()  # rows written past the admin are seen after the cache expires

    assert risk.amount_limits("USD") == {"review": 1_000, "deny": 2_000, "review_per_day": 3_000}
    assert risk.amount_limits("GBP") == {"review": 10, "deny": 20, "review_per_day": 30}
    assert risk.max_per_hour() == 1
    RiskLimit.objects.all().delete()
    risk.forget()
    assert risk.max_per_hour() == 5  # back to the settings
