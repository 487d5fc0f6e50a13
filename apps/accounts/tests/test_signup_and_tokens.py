"""Sign-up, e-mail verification by code, JWT tokens and their end, as the mobile app sees it."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from apps.accounts.tests.mobile import PASSWORD, MobileClient, last_code
from apps.core.models import OutboxEvent

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"


@pytest.fixture
def app() -> MobileClient:
    client = MobileClient()
    response = client.sign_up(EMAIL)
    assert response.status_code == 200, response.body
    return client


def test_sign_up_verify_by_code_then_call_the_api():
    app = MobileClient()
    started = app.call("post", "/auth/signup", {"email": EMAIL, "password": PASSWORD})
    assert started.status_code == 401
    flows = {f["id"]: f for f in started.body["data"]["flows"]}
    assert flows["verify_email"]["is_pending"] is True
    assert "session_token" in started.body["meta"]
    code = last_code(EMAIL)
    assert len(code) == 6
    assert code.isdigit()
    assert "Finstack" in mail.outbox[-1].subject

    verified = app.call("post", "/auth/email/verify", {"key": code})
    assert verified.status_code == 200
    assert verified.body["meta"]["is_authenticated"] is True
    assert verified.body["meta"]["access_token"].count(".") == 2

    me = app.call("get", "/api/v1/me", bearer=True)
    assert me.status_code == 200
    assert me.body["email"] == EMAIL
    assert me.body | {"id": 0, "date_joined": ""} == {
        "id": 0,
        "email": EMAIL,
        "first_name": "",
        "last_name": "",
        "default_currency": "EUR",
        "language": "en",
        "phone": "",
        "phone_verified": False,
        "roles": [],
        "mfa_enabled": False,
        "kyc_tier": 0,
        "date_joined": "",
    }
    # accounts.user_created was written with the user; its handler opened the default wallet.
    assert OutboxEvent.objects.filter(type="accounts.user_created").count() == 1
    wallets = app.call("get", "/api/v1/wallets").body["results"]
    assert [(w["currency"], w["is_default"]) for w in wallets] == [("EUR", True)]


def test_a_wrong_code_is_refused_and_nothing_is_issued():
    app = MobileClient()
    app.call("post", "/auth/signup", {"email": EMAIL, "password": PASSWORD})
    wrong = "000000" if last_code(EMAIL) != "000000" else "111111"
    response = app.call("post", "/auth/email/verify", {"key": wrong})
    assert response.status_code == 400
    assert response.body["errors"][0]["code"] == "incorrect_code"
    assert app.access is None
    assert app.call("get", "/api/v1/me").status_code == 401


def test_unverified_login_is_refused_until_the_code_is_entered(forget_attempts):
    app = MobileClient()
    app.call("post", "/auth/signup", {"email": EMAIL, "password": PASSWORD})
    forget_attempts()  # a new code may be mailed at most every 10 s
    other = MobileClient()
    response = other.log_in(EMAIL)
    assert response.status_code == 401, response.body
    flows = {f["id"]: f for f in response.body["data"]["flows"]}
    assert flows["verify_email"]["is_pending"] is True
    assert other.call("post", "/auth/email/verify", {"key": last_code(EMAIL)}).status_code == 200
    assert other.call("get", "/api/v1/me").status_code == 200


def test_api_refuses_missing_and_forged_tokens_in_one_error_shape(app):
    anonymous = MobileClient()
    response = anonymous.call("get", "/api/v1/me")
    assert response.status_code == 401
    assert response.body["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    header, payload, signature = app.access.split(".")
    anonymous.access = f"{header}.{payload}.{signature[::-1]}"
    response = anonymous.call("get", "/api/v1/me")
    assert response.status_code == 401
    assert response.body["error"]["code"] == "authentication_failed"


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_family(app):
    first_refresh = app.refresh
    rotated = app.call("post", "/tokens/refresh", {"refresh_token": first_refresh}, bearer=False)
    assert rotated.status_code == 200
    second_refresh, access = (
        rotated.body["data"]["refresh_token"],
        rotated.body["data"]["access_token"],
    )
    assert second_refresh != first_refresh
    app.access = access
    assert app.call("get", "/api/v1/me").status_code == 200

    replay = app.call("post", "/tokens/refresh", {"refresh_token": first_refresh}, bearer=False)
    assert replay.status_code == 400
    # A stolen copy was replayed: the whole login is over, the thief's and the owner's tokens.
    assert app.call("get", "/api/v1/me").status_code == 401
    after = app.call("post", "/tokens/refresh", {"refresh_token": second_refresh}, bearer=False)
    assert after.status_code == 400


def test_access_token_dies_at_logout(app):
    assert app.call("get", "/api/v1/me").status_code == 200
    out = app.call("delete", "/auth/session")
    assert out.status_code == 401  # allauth: "you are now logged out"
    assert app.call("get", "/api/v1/me").status_code == 401
    refresh = app.call("post", "/tokens/refresh", {"refresh_token": app.refresh}, bearer=False)
    assert refresh.status_code == 400


def test_access_token_dies_when_the_user_is_deactivated(app):
    get_user_model().objects.filter(email=EMAIL).update(is_active=False)
    assert app.call("get", "/api/v1/me").status_code == 401


def test_password_reset_by_code_kills_old_tokens_and_the_new_password_works(app):
    other_device = MobileClient()
    reset = other_device.call("post", "/auth/password/request", {"email": EMAIL}, bearer=False)
    assert reset.status_code == 401  # pending: enter the code
    code = last_code(EMAIL)
    done = other_device.call(
        "post", "/auth/password/reset", {"key": code, "password": "a new long passphrase 7"}
    )
    assert done.status_code in (200, 401), done.body
    assert app.call("get", "/api/v1/me").status_code == 401  # the old login is over
    assert MobileClient().log_in(EMAIL, PASSWORD).status_code == 400
    fresh = MobileClient()
    assert fresh.log_in(EMAIL, "a new long passphrase 7").status_code == 200
    assert fresh.call("get", "/api/v1/me").status_code == 200
    assert OutboxEvent.objects.filter(
        type="accounts.password_changed", payload__how="reset"
    ).exists()


def test_password_change_keeps_this_login_and_ends_the_others(app):
    laptop = MobileClient(user_agent="FinstackApp/1.0 (Android 17)")
    assert laptop.log_in(EMAIL).status_code == 200
    changed = app.call(
        "post",
        "/account/password/change",
        {"current_password": PASSWORD, "new_password": "another long passphrase 8"},
    )
    assert changed.status_code == 200, changed.body
    assert laptop.call("get", "/api/v1/me").status_code == 401
    assert OutboxEvent.objects.filter(
        type="accounts.password_changed", payload__how="change"
    ).exists()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short9x", "password_too_short"),
        ("p" * 200 + "9" * 57, "password_too_long"),
        ("8204619375102", "password_entirely_numeric"),
        ("password1234", "password_too_common"),
    ],
)
def test_weak_or_absurd_passwords_are_refused_and_no_account_is_made(password, code):
    app = MobileClient()
    response = app.call("post", "/auth/signup", {"email": EMAIL, "password": password})
    assert response.status_code == 400
    assert [(e["code"], e["param"]) for e in response.body["errors"]] == [(code, "password")]
    assert not get_user_model().objects.filter(email=EMAIL).exists()
