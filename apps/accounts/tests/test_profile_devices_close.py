"""GET/PATCH /api/v1/me, devices (login sessions) and account closure."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.tests.mobile import PASSWORD, MobileClient
from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.ledger.tests.factories import fund

pytestmark = pytest.mark.django_db
EMAIL = "zoe@example.com"


@pytest.fixture
def app() -> MobileClient:
    client = MobileClient()
    assert client.sign_up(EMAIL).status_code == 200
    return client


def test_profile_edit(app):
    changed = app.call(
        "patch",
        "/api/v1/me",
        {"first_name": "Zoe", "default_currency": "GBP", "language": "de"},
    )
    assert changed.status_code == 200, changed.body
    assert changed.body["first_name"] == "Zoe"
    assert changed.body["default_currency"] == "GBP"
    assert changed.body["language"] == "de"
    assert app.call("get", "/api/v1/me").body["first_name"] == "Zoe"


@pytest.mark.parametrize(
    ("field", "value"),
    [("default_currency", "XXY"), ("language", "klingon"), ("first_name", "x" * 151)],
)
def test_profile_refuses_bad_values_and_keeps_the_old_ones(app, field, value):
    before = app.call("get", "/api/v1/me").body
    refused = app.call("patch", "/api/v1/me", {field: value})
    assert refused.status_code == 400
    assert refused.body["error"]["code"] == "validation_error"
    assert field in refused.body["error"]["details"]
    assert app.call("get", "/api/v1/me").body == before


@pytest.fixture
def sms():
    """The SMS gateway is the outside world here: capture what accounts asks it to send."""
    from apps.accounts import services

    sent, before = [], services.sms_sender()
    services.sms_sender_register(lambda **kwargs: sent.append(kwargs))
    yield sent
    services.sms_sender_register(before)


def test_a_phone_number_is_verified_by_an_sms_code(app, sms):
    started = app.call("post", "/account/phone", {"phone": "+447700900123"})
    assert started.status_code == 202
    assert sms[-1]["phone"] == "+447700900123"
    assert app.call("get", "/api/v1/me").body["phone_verified"] is False
    wrong = "000000" if sms[-1]["code"] != "000000" else "111111"
    assert app.call("post", "/auth/phone/verify", {"code": wrong}).status_code == 400
    assert app.call("post", "/auth/phone/verify", {"code": sms[-1]["code"]}).status_code == 200
    me = app.call("get", "/api/v1/me").body
    assert (me["phone"], me["phone_verified"]) == ("+447700900123", True)


def test_the_phone_is_not_changed_through_the_profile(app):
    refused = app.call("patch", "/api/v1/me", {"phone": "+447700900123", "first_name": "Zoe"})
    assert refused.status_code == 400
    assert "/_allauth/app/v1/account/phone" in refused.body["error"]["details"]["phone"][0]
    assert app.call("get", "/api/v1/me").body["first_name"] == ""


def test_a_phone_number_belongs_to_one_account(app, sms):
    get_user_model().objects.create_user(
        "max@example.com", "pw", phone="+447700900123", phone_verified=True
    )
    app.call("post", "/account/phone", {"phone": "+447700900123"})
    # The answer does not reveal that the number is taken; no code reaches this account.
    code = sms[-1]["code"] if sms else "000000"
    app.call("post", "/auth/phone/verify", {"code": code})
    me = app.call("get", "/api/v1/me").body
    assert (me["phone"], me["phone_verified"]) == ("", False)


def test_devices_are_listed_and_one_can_be_revoked(app):
    tablet = MobileClient(user_agent="FinstackApp/1.0 (iPad)")
    assert tablet.log_in(EMAIL).status_code == 200
    listed = app.call("get", "/auth/sessions")
    assert listed.status_code == 200
    sessions = {s["user_agent"]: s for s in listed.body["data"]}
    assert set(sessions) == {"FinstackApp/1.0 (iPhone; iOS 19)", "FinstackApp/1.0 (iPad)"}
    assert sessions["FinstackApp/1.0 (iPhone; iOS 19)"]["is_current"] is True
    assert "last_seen_at" in sessions["FinstackApp/1.0 (iPad)"]

    ipad = sessions["FinstackApp/1.0 (iPad)"]["id"]
    assert app.call("delete", "/auth/sessions", {"sessions": [ipad]}).status_code == 200
    assert tablet.call("get", "/api/v1/me").status_code == 401
    assert app.call("get", "/api/v1/me").status_code == 200


def test_a_login_from_a_new_device_is_announced_once(app):
    assert not OutboxEvent.objects.filter(type="accounts.new_device_login").exists()
    MobileClient(user_agent="FinstackApp/1.0 (iPhone; iOS 19)").log_in(EMAIL)  # same device
    assert not OutboxEvent.objects.filter(type="accounts.new_device_login").exists()
    MobileClient(user_agent="FinstackApp/1.0 (Pixel 11)").log_in(EMAIL)
    MobileClient(user_agent="FinstackApp/1.0 (Pixel 11)").log_in(EMAIL)
    events = OutboxEvent.objects.filter(type="accounts.new_device_login")
    assert [e.payload["device"] for e in events] == ["FinstackApp/1.0 (Pixel 11)"]


def test_closing_is_refused_while_a_wallet_holds_money(app):
    wallet = app.call("get", "/api/v1/wallets").body["results"][0]
    fund(_ledger_account(wallet["id"]), Money(1, "EUR"))  # one cent is enough to refuse
    refused = app.call("post", "/api/v1/me/close")
    assert refused.status_code == 409
    assert refused.body["error"]["code"] == "account_not_empty"
    assert refused.body["error"]["details"]["wallet_id"] == wallet["id"]
    # Nothing moved: the user, the wallet and the login are as they were.
    assert app.call("get", f"/api/v1/wallets/{wallet['id']}").body["status"] == "active"
    assert get_user_model().objects.get(email=EMAIL).is_active
    assert not OutboxEvent.objects.filter(type="accounts.user_closed").exists()


def test_closing_an_empty_account_ends_every_login(app):
    tablet = MobileClient(user_agent="FinstackApp/1.0 (iPad)")
    tablet.log_in(EMAIL)
    assert app.call("post", "/api/v1/me/close").status_code == 204
    assert app.call("get", "/api/v1/me").status_code == 401
    assert tablet.call("get", "/api/v1/me").status_code == 401
    refresh = tablet.call(
        "post", "/tokens/refresh", {"refresh_token": tablet.refresh}, bearer=False
    )
    assert refresh.status_code in (400, 401)
    assert MobileClient().log_in(EMAIL, PASSWORD).status_code != 200
    user = get_user_model().objects.get(email=EMAIL)  # kept, as the law asks
    assert user.closed_at is not None
    assert not user.is_active
    assert OutboxEvent.objects.filter(type="accounts.user_closed").count() == 1
    from apps.wallets import selectors as wallet_selectors

    assert {w.status for w in wallet_selectors.wallet_list(user_id=user.pk)} == {"closed"}


def _ledger_account(wallet_id):
    from apps.wallets import selectors as wallet_selectors

    return wallet_selectors.ledger_account_of(wallet_id=wallet_id)


def test_using_the_api_marks_the_device_as_seen(app):
    from datetime import timedelta

    from allauth.usersessions.models import UserSession
    from django.utils import timezone

    long_ago = timezone.now() - timedelta(days=3)
    UserSession.objects.update(last_seen_at=long_ago)
    assert app.call("get", "/api/v1/me").status_code == 200
    assert UserSession.objects.get().last_seen_at > timezone.now() - timedelta(seconds=5)
