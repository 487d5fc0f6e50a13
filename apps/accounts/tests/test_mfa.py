"""Two-factor authentication (TOTP + recovery codes) for customers, and the permission that
guards money leaving the platform."""

import time

import pytest
from allauth.mfa.models import Authenticator
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.permissions import RecentStrongAuth
from apps.accounts.tests.mobile import PASSWORD, MobileClient, age_login, totp
from apps.core.models import OutboxEvent

pytestmark = pytest.mark.django_db
EMAIL = "mia@example.com"


class WithdrawProbe(APIView):
    permission_classes = (RecentStrongAuth,)

    def post(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/probe", WithdrawProbe.as_view()),
    path("_allauth/", include("allauth.headless.urls")),
]


@pytest.fixture
def app() -> MobileClient:
    client = MobileClient()
    assert client.sign_up(EMAIL).status_code == 200
    return client


def activate_totp(app: MobileClient) -> str:
    # Security settings ask for the password again, even right after signing up by code.
    again = app.call("post", "/auth/reauthenticate", {"password": PASSWORD})
    assert again.status_code == 200, again.body
    pending = app.call("get", "/account/authenticators/totp")
    assert pending.status_code == 404  # not active yet: the body offers a secret
    secret = pending.body["meta"]["secret"]
    assert pending.body["meta"]["totp_url"].startswith("otpauth://totp/")
    activated = app.call("post", "/account/authenticators/totp", {"code": totp(secret)})
    assert activated.status_code == 200, activated.body
    return secret


def test_totp_set_up_then_login_needs_the_second_factor(app):
    secret = activate_totp(app)
    assert app.call("get", "/api/v1/me").body["mfa_enabled"] is True
    assert OutboxEvent.objects.filter(
        type="accounts.mfa_changed", payload__change="totp_added"
    ).exists()

    phone = MobileClient(user_agent="FinstackApp/1.0 (Pixel 11)")
    first = phone.log_in(EMAIL)
    assert first.status_code == 401
    flows = {f["id"]: f for f in first.body["data"]["flows"]}
    assert flows["mfa_authenticate"]["is_pending"] is True
    assert phone.access is None
    assert phone.call("get", "/api/v1/me").status_code == 401

    # The code for the next 30-second step: the one used at activation is spent.
    code = totp(secret, at=time.time() + 30)
    second = phone.call("post", "/auth/2fa/authenticate", {"code": code})
    assert second.status_code == 200, second.body
    assert phone.call("get", "/api/v1/me").status_code == 200

    # The same code again, on another device, is a replay: refused.
    tablet = MobileClient(user_agent="FinstackApp/1.0 (iPad)")
    assert tablet.log_in(EMAIL).status_code == 401
    replay = tablet.call("post", "/auth/2fa/authenticate", {"code": code})
    assert replay.status_code == 400
    assert replay.body["errors"][0]["code"] == "incorrect_code"
    assert tablet.access is None


def test_a_recovery_code_logs_in_once(app):
    activate_totp(app)
    codes = app.call("get", "/account/authenticators/recovery-codes")
    assert codes.status_code == 200, codes.body
    unused = codes.body["data"]["unused_codes"]
    assert len(unused) == 10

    phone = MobileClient()
    phone.log_in(EMAIL)
    assert phone.call("post", "/auth/2fa/authenticate", {"code": unused[0]}).status_code == 200
    again = MobileClient()
    again.log_in(EMAIL)
    assert again.call("post", "/auth/2fa/authenticate", {"code": unused[0]}).status_code == 400


def test_totp_secret_is_encrypted_at_rest(app):
    secret = activate_totp(app)
    stored = Authenticator.objects.get(type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored
    assert stored.startswith("gAAAA")  # a Fernet token


def test_deactivation_needs_a_fresh_reauthentication(app):
    secret = activate_totp(app)
    age_login(app, 3600)
    refused = app.call("delete", "/account/authenticators/totp")
    assert refused.status_code == 401
    flows = {f["id"] for f in refused.body["data"]["flows"]}
    assert "mfa_reauthenticate" in flows
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).exists()

    code = totp(secret, at=time.time() + 30)
    assert app.call("post", "/auth/2fa/reauthenticate", {"code": code}).status_code == 200
    assert app.call("delete", "/account/authenticators/totp").status_code == 200
    assert not Authenticator.objects.filter(type=Authenticator.Type.TOTP).exists()
    assert OutboxEvent.objects.filter(
        type="accounts.mfa_changed", payload__change="totp_removed"
    ).exists()


@pytest.mark.urls("apps.accounts.tests.test_mfa")
def test_money_out_needs_mfa_and_a_recent_login(app):
    response = app.call("post", "/api/probe")
    assert response.status_code == 403
    assert response.body["error"]["code"] == "mfa_required"

    activate_totp(app)
    assert app.call("post", "/api/probe").status_code == 200

    age_login(app, 3600)
    stale = app.call("post", "/api/probe")
    assert stale.status_code == 403
    assert stale.body["error"]["code"] == "reauthentication_required"
