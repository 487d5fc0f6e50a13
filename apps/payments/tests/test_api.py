"""The payments API as the mobile app calls it: funding sources, deposits, withdrawals
(two-factor and a fresh login), the list and the detail, every refusal with its code."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.tests.mobile import MobileClient, age_login, with_two_factor
from apps.core.money import Money
from apps.kyc import services as kyc_services
from apps.ledger.tests.factories import fund
from apps.payments.models import FundingSource, Payment
from apps.payments.tests.factories import balance, bank_answers, iban
from apps.wallets import selectors as wallet_selectors

pytestmark = pytest.mark.django_db
EMAIL = "pia@example.com"


@pytest.fixture
def app() -> MobileClient:
    client = MobileClient()
    assert client.sign_up(EMAIL).status_code == 200
    return client


@pytest.fixture
def wallet(app) -> str:
    return app.call("get", "/api/v1/wallets").body["results"][0]["id"]


def add_bank(app, suffix="0001"):
    body = {"iban": iban(suffix), "holder_name": "Pia Example", "currency": "EUR"}
    return app.call("post", "/api/v1/funding-sources", body)


def money_call(app, path, wallet, source, amount, key="k-1"):
    app.http.credentials(HTTP_IDEMPOTENCY_KEY=key)
    body = {"wallet": wallet, "funding_source": source, "amount": amount, "currency": "EUR"}
    response = app.call("post", path, body)
    app.http.credentials()
    return response


def test_linking_a_bank_account_needs_two_factor_then_works(app):
    refused = add_bank(app)
    assert refused.status_code == 403
    assert refused.body["error"]["code"] == "mfa_required"
    assert not FundingSource.objects.exists()
    with_two_factor(app)
    added = add_bank(app)
    assert added.status_code == 201
    assert added.body["iban_last4"] == iban()[-4:]
    assert "iban" not in added.body  # never echoed back whole
    listed = app.call("get", "/api/v1/funding-sources").body["results"]
    assert [s["id"] for s in listed] == [added.body["id"]]
    again = add_bank(app)
    assert (again.status_code, again.body["error"]["code"]) == (409, "funding_source_exists")


def test_a_bad_iban_is_refused(app):
    with_two_factor(app)
    bad = iban()[:-1] + ("1" if iban()[-1] != "1" else "2")
    response = app.call(
        "post",
        "/api/v1/funding-sources",
        {"iban": bad, "holder_name": "Pia", "currency": "EUR"},
    )
    assert (response.status_code, response.body["error"]["code"]) == (400, "invalid_iban")


def test_deposit_end_to_end_with_replay_and_detail(app, wallet):
    with_two_factor(app)
    source = add_bank(app).body["id"]
    created = money_call(app, "/api/v1/deposits", wallet, source, 2_500)
    assert created.status_code == 201
    assert created.body["state"] == "processing"
    assert [h["to"] for h in created.body["history"]] == ["requires_confirmation", "processing"]
    replay = money_call(app, "/api/v1/deposits", wallet, source, 2_500)
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    bank_answers(created.body["id"])
    detail = app.call("get", f"/api/v1/payments/{created.body['id']}").body
    assert detail["state"] == "succeeded"
    assert app.call("get", f"/api/v1/wallets/{wallet}").body["balance"]["posted"] == 2_500
    listed = app.call("get", "/api/v1/payments?direction=deposit").body["results"]
    assert [p["id"] for p in listed] == [created.body["id"]]


def test_withdrawal_needs_a_fresh_login_and_a_verified_tier(app, wallet):
    with_two_factor(app)
    source = add_bank(app).body["id"]
    user = get_user_model().objects.get(email=EMAIL)
    fund(wallet_selectors.ledger_account_of(wallet_id=wallet), Money(10_000, "EUR"))
    tier0 = money_call(app, "/api/v1/withdrawals", wallet, source, 1_000)
    assert (tier0.status_code, tier0.body["error"]["code"]) == (422, "withdrawals_not_allowed")
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    FundingSource.objects.filter(pk=source).update(created_at="2025-01-01T00:00:00Z")
    ok = money_call(app, "/api/v1/withdrawals", wallet, source, 1_000, key="k-2")
    assert ok.status_code == 201, ok.body
    assert balance(wallet) == (10_000, 9_000)
    age_login(app, 3600)
    stale = money_call(app, "/api/v1/withdrawals", wallet, source, 1_000, key="k-3")
    assert (stale.status_code, stale.body["error"]["code"]) == (403, "reauthentication_required")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("insufficient", 422, "insufficient_funds"),
        ("over_limit", 422, "limit_exceeded"),
        ("unknown_source", 404, "funding_source_not_found"),
        ("other_wallet", 404, "wallet_not_found"),
        ("usd", 422, "currency_mismatch"),
    ],
)
def test_withdrawal_refusals_leave_everything_as_it_was(app, wallet, case, status, code):
    with_two_factor(app)
    source = add_bank(app).body["id"]
    user = get_user_model().objects.get(email=EMAIL)
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    fund(wallet_selectors.ledger_account_of(wallet_id=wallet), Money(5_000, "EUR"))
    amount, target = 1_000, wallet
    if case == "insufficient":
        amount = 6_000
    elif case == "over_limit":
        amount = 200_000  # tier 1: 1,000.00 EUR per transaction
        fund(wallet_selectors.ledger_account_of(wallet_id=wallet), Money(500_000, "EUR"))
    elif case == "unknown_source":
        source = "00000000-0000-0000-0000-000000000000"
    elif case == "other_wallet":
        other = MobileClient()
        other.sign_up("ole@example.com")
        target = other.call("get", "/api/v1/wallets").body["results"][0]["id"]
    before = balance(wallet)
    if case == "usd":
        app.http.credentials(HTTP_IDEMPOTENCY_KEY="k-usd")
        body = {"wallet": wallet, "funding_source": source, "amount": 100, "currency": "USD"}
        response = app.call("post", "/api/v1/withdrawals", body)
    else:
        response = money_call(app, "/api/v1/withdrawals", target, source, amount)
    assert response.status_code == status, response.body
    assert response.body["error"]["code"] == code
    assert balance(wallet) == before
    assert not Payment.objects.exists()


def test_someone_elses_payment_is_not_found(app, wallet):
    with_two_factor(app)
    source = add_bank(app).body["id"]
    created = money_call(app, "/api/v1/deposits", wallet, source, 100)
    other = MobileClient()
    other.sign_up("ole@example.com")
    response = other.call("get", f"/api/v1/payments/{created.body['id']}")
    assert (response.status_code, response.body["error"]["code"]) == (404, "payment_not_found")


def test_a_source_in_use_cannot_be_removed_until_its_payment_ends(app, wallet):
    with_two_factor(app)
    source = add_bank(app).body["id"]
    created = money_call(app, "/api/v1/deposits", wallet, source, 100)
    busy = app.call("delete", f"/api/v1/funding-sources/{source}")
    assert (busy.status_code, busy.body["error"]["code"]) == (409, "funding_source_in_use")
    bank_answers(created.body["id"])
    assert app.call("delete", f"/api/v1/funding-sources/{source}").status_code == 204
    assert app.call("get", "/api/v1/funding-sources").body["results"] == []


def test_kyc_status_shows_limits_and_what_was_used(app, wallet):
    with_two_factor(app)
    source = add_bank(app).body["id"]
    user = get_user_model().objects.get(email=EMAIL)
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    FundingSource.objects.filter(pk=source).update(created_at="2025-01-01T00:00:00Z")
    fund(wallet_selectors.ledger_account_of(wallet_id=wallet), Money(10_000, "EUR"))
    money_call(app, "/api/v1/withdrawals", wallet, source, 1_500)
    eur = app.call("get", "/api/v1/kyc/status").body["limits"]["EUR"]
    assert eur == {
        "per_transaction": 100_000,
        "daily": 250_000,
        "monthly": 1_000_000,
        "max_balance": 1_500_000,
        "used_today": 1_500,
        "used_this_month": 1_500,
    }


def test_the_account_cannot_close_while_a_payment_is_unfinished(app, wallet):
    with_two_factor(app)
    source = add_bank(app).body["id"]
    created = money_call(app, "/api/v1/deposits", wallet, source, 100)
    refused = app.call("post", "/api/v1/me/close")
    assert (refused.status_code, refused.body["error"]["code"]) == (409, "account_busy")
    assert get_user_model().objects.get(email=EMAIL).is_active
    bank_answers(created.body["id"])
    assert app.call("post", "/api/v1/me/close").body["error"]["code"] == "account_not_empty"
