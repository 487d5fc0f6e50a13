"""Rate limits, shown with small rates: money endpoints (transfers, deposits, withdrawals share
the per-user "money" scope) answer 429 `throttled` with Retry-After in the error shape and move
nothing; the login limit (allauth's, its own shape) refuses with Retry-After."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts.tests.mobile import BASE, MobileClient, with_two_factor
from apps.core.money import Money
from apps.ledger.tests.factories import fund
from apps.payments.tests.factories import bank_account
from apps.wallets import selectors as wallet_selectors
from apps.wallets.tests.factories import make_wallet
from tests.security.test_input_money import money_state

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
RATE = 3


@pytest.fixture
def small_money_rate(settings):
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"]["money"] = f"{RATE}/min"
    settings.REST_FRAMEWORK = rest


def forget(user_id: int) -> None:
    cache.delete(f"throttle_money_{user_id}")  # this run's prefix; never clear() the shared Redis


def throttled(response) -> None:
    body = response.json()
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert body == {
        "error": {
            "code": "throttled",
            "message": "Too many requests; retry later.",
            "details": {"retry_after": retry_after},
        }
    }


def test_the_money_scope_is_configured():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["money"] == "60/min"
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "apps.core.api.throttling.RequestRateThrottle"  # counts a view's throttle_scope too
    ]


def test_transfers_are_throttled_per_user_with_retry_after(
    small_money_rate, auth_client, redis_server
):
    source, target = make_wallet(funded=10_000), make_wallet()
    forget(source.owner_id)
    client = auth_client(source.owner)

    def send(key: str):
        body = {"source_wallet": str(source.pk), "destination": str(target.pk), "amount": 10}
        return client.post(
            "/api/v1/transfers", {**body, "currency": "EUR"}, HTTP_IDEMPOTENCY_KEY=key
        )

    for n in range(RATE):
        assert send(f"k-{n}").status_code == 201
    before = money_state()
    throttled(send("k-over"))
    assert money_state() == before
    # Another user is not affected by this user's count.
    other = make_wallet(funded=100)
    forget(other.owner_id)
    response = auth_client(other.owner).post(
        "/api/v1/transfers",
        {
            "source_wallet": str(other.pk),
            "destination": str(target.pk),
            "amount": 1,
            "currency": "EUR",
        },
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code == 201


def test_deposits_withdrawals_and_transfers_share_one_budget(small_money_rate, redis_server):
    app = MobileClient()
    assert app.sign_up("rita@example.com").status_code == 200
    with_two_factor(app)
    from django.contrib.auth import get_user_model

    from apps.kyc import services as kyc_services

    user = get_user_model().objects.get(email="rita@example.com")
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    forget(user.pk)
    wallet = app.call("get", "/api/v1/wallets").body["results"][0]["id"]
    fund(wallet_selectors.ledger_account_of(wallet_id=wallet), Money(10_000, "EUR"))
    source = str(bank_account(user).pk)
    body = {"wallet": wallet, "funding_source": source, "amount": 100, "currency": "EUR"}

    def post(path: str, key: str):
        app.http.credentials(HTTP_IDEMPOTENCY_KEY=key)
        return app.call("post", path, body)

    assert post("/api/v1/deposits", "d-1").status_code == 201
    assert post("/api/v1/withdrawals", "w-1").status_code == 201
    assert post("/api/v1/deposits", "d-2").status_code == 201
    before = money_state()
    for path in ("/api/v1/deposits", "/api/v1/withdrawals"):
        throttled(post(path, f"{path}-over"))
    assert money_state() == before


def test_invalid_requests_count_too(small_money_rate, auth_client, redis_server):
    """A flood of junk is throttled as well: the limit comes before validation."""
    source = make_wallet(funded=100)
    forget(source.owner_id)
    client = auth_client(source.owner)
    for n in range(RATE):
        response = client.post("/api/v1/transfers", {"amount": "x"}, HTTP_IDEMPOTENCY_KEY=f"{n}")
        assert response.status_code == 400
    throttled(client.post("/api/v1/transfers", {"amount": "x"}, HTTP_IDEMPOTENCY_KEY="over"))


def test_reads_are_not_in_the_money_scope(small_money_rate, auth_client, redis_server):
    source = make_wallet(funded=100)
    forget(source.owner_id)
    client = auth_client(source.owner)
    for _ in range(RATE + 2):
        assert client.get("/api/v1/wallets").status_code == 200


def test_login_failures_are_limited_with_retry_after(settings, redis_server):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,2/900s/key"}
    assert MobileClient().sign_up("lars@example.com").status_code == 200
    client = APIClient(REMOTE_ADDR="198.51.100.20")
    body = {"email": "lars@example.com", "password": "guess"}
    for _ in range(2):
        response = client.post(f"{BASE}/auth/login", body, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "email_password_mismatch"
    locked = client.post(f"{BASE}/auth/login", body, format="json")
    assert locked.status_code == 400  # allauth's answer and shape (docs/apps/accounts.md)
    assert locked.json() == {
        "status": 400,
        "errors": [
            {
                "message": locked.json()["errors"][0]["message"],
                "code": "too_many_login_attempts",
            }
        ],
    }
    assert 800 < int(locked["Retry-After"]) <= 900
