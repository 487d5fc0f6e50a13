"""Code requests are rate limited with Retry-After; without Redis, sign-in fails closed with a
clear 503 and writes nothing; the TOTP QR code."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from apps.accounts.tests.mobile import PASSWORD, MobileClient

pytestmark = pytest.mark.django_db


def test_reset_code_requests_are_limited_with_retry_after():
    assert MobileClient().sign_up("kim@example.com").status_code == 200
    app = MobileClient()
    answers = [
        app.call("post", "/auth/password/request", {"email": "kim@example.com"}).status_code
        for _ in range(6)
    ]
    assert answers[:5] == [401] * 5  # each one: "enter the code"
    assert answers[5] == 429
    refused = app.call("post", "/auth/password/request", {"email": "kim@example.com"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


@pytest.fixture
def redis_down(settings, dead_redis_url):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": dead_redis_url,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


def test_without_redis_sign_up_and_login_fail_closed_and_write_nothing(redis_down):
    app = MobileClient()
    signup = app.call("post", "/auth/signup", {"email": "ned@example.com", "password": PASSWORD})
    assert signup.status_code == 503
    assert signup.body["errors"][0]["code"] == "service_unavailable"
    assert signup["Retry-After"] == "30"
    assert not get_user_model().objects.filter(email="ned@example.com").exists()
    assert mail.outbox == []
    login = MobileClient().log_in("ned@example.com")
    assert login.status_code == 503


def test_the_pending_totp_secret_as_a_qr_png():
    app = MobileClient()
    app.sign_up("qr@example.com")
    not_started = app.call("get", "/api/v1/me/totp-qr.png")
    assert not_started.status_code == 404
    assert not_started.body["error"]["code"] == "totp_setup_not_started"
    app.call("post", "/auth/reauthenticate", {"password": PASSWORD})
    assert app.call("get", "/account/authenticators/totp").status_code == 404  # secret offered
    png = app.http.get("/api/v1/me/totp-qr.png", HTTP_AUTHORIZATION=f"Bearer {app.access}")
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
