"""Login failures lock an account and an IP for a while, with a clear error and Retry-After."""

import pytest

from apps.accounts.tests.mobile import PASSWORD, MobileClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer() -> str:
    assert MobileClient().sign_up("leo@example.com").status_code == 200
    return "leo@example.com"


def test_five_failures_lock_the_account_with_retry_after(customer):
    app = MobileClient()
    for _ in range(5):
        failed = app.log_in(customer, "not my password")
        assert failed.status_code == 400
        assert failed.body["errors"][0]["code"] == "email_password_mismatch"
        assert "Retry-After" not in failed

    locked = app.log_in(customer, PASSWORD)  # even the right password waits now
    assert locked.status_code == 400
    assert locked.body["errors"][0]["code"] == "too_many_login_attempts"
    assert 800 < int(locked["Retry-After"]) <= 900
    assert app.access is None


def test_a_success_does_not_reset_the_failure_count(customer):
    app = MobileClient()
    for _ in range(4):
        app.log_in(customer, "not my password")
    assert MobileClient().log_in(customer).status_code == 200
    assert app.log_in(customer, "not my password").status_code == 400
    assert app.log_in(customer, PASSWORD).body["errors"][0]["code"] == "too_many_login_attempts"


def test_the_ip_limit_ignores_a_spoofed_forwarded_for(customer):
    app = MobileClient()
    for n in range(10):  # ten accounts, one wrong guess each, from one address
        assert app.log_in(f"guess{n}@example.com", "x").status_code == 400
    spoofed = MobileClient()
    spoofed.http.defaults["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    refused = spoofed.log_in("guess99@example.com", "x")
    assert refused.body["errors"][0]["code"] == "too_many_login_attempts"
    assert 0 < int(refused["Retry-After"]) <= 60


def test_behind_one_trusted_proxy_the_forwarded_address_is_the_client(customer, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    app = MobileClient()
    app.http.defaults["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    for n in range(10):
        assert app.log_in(f"guess{n}@example.com", "x").status_code == 400
    elsewhere = MobileClient()
    elsewhere.http.defaults["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    other_client = elsewhere.log_in("guess99@example.com", "x")
    assert other_client.body["errors"][0]["code"] == "email_password_mismatch"
