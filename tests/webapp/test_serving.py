"""Django serves the built web app at /app/ (finstack/webapp.py) and the browser client's
session passes the checks the mobile client's token passes."""

import pytest
from django.db import transaction
from django.test import Client, override_settings

from apps.accounts import services as accounts_services
from finstack import demo

pytestmark = pytest.mark.django_db
INDEX = b'<!doctype html><div id="root"></div><script src="/app/assets/index-AbC123.js"></script>'


@pytest.fixture
def dist(tmp_path, settings):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    settings.WEBAPP_DIST = tmp_path
    return tmp_path


@pytest.mark.parametrize("path", ["/app/", "/app/send", "/app/wallets/0b7f3c1e/history"])
def test_every_app_route_answers_the_page_never_cached_with_a_csrf_cookie(dist, path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response.content == INDEX
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    assert response.cookies["csrftoken"].value


def test_app_without_slash_redirects(dist):
    response = Client().get("/app")
    assert (response.status_code, response["Location"]) == (301, "/app/")


def test_a_missing_asset_is_a_404_not_the_page(dist):
    assert Client().get("/app/assets/gone-XyZ.js").status_code == 404


def test_the_page_is_read_only(dist):
    response = Client(enforce_csrf_checks=False).post("/app/send")
    assert response.status_code == 405


def test_an_unbuilt_app_says_how_to_build_it(tmp_path, settings):
    settings.WEBAPP_DIST = tmp_path / "missing"
    response = Client().get("/app/")
    assert response.status_code == 503
    assert b"npm run build" in response.content


def test_assets_are_served_and_cached_for_good(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-AbC123.js").write_text("console.log(1)")
    with override_settings(WEBAPP_DIST=tmp_path):
        from finstack.webapp import WhiteNoiseMiddleware

        middleware = WhiteNoiseMiddleware(lambda request: None)
        response = middleware.files["/app/assets/index-AbC123.js"].get_response("GET", {})
        response.file.close()
    assert "immutable" in dict(response.headers)["Cache-Control"]


def test_browser_session_gets_the_pending_totp_qr_code():
    accounts_services.user_create(
        email="qr@example.test", password="pw-for-qr-1234", email_verified=True
    )
    browser = Client()
    login = browser.post(
        "/_allauth/browser/v1/auth/login",
        {"email": "qr@example.test", "password": "pw-for-qr-1234"},
        content_type="application/json",
    )
    assert login.status_code == 200
    before = browser.get("/api/v1/me/totp-qr.png")
    assert before.status_code == 404
    assert before.json()["error"]["code"] == "totp_setup_not_started"
    pending = browser.get("/_allauth/browser/v1/account/authenticators/totp")
    assert pending.status_code == 404
    assert pending.json()["meta"]["secret"]
    qr = browser.get("/api/v1/me/totp-qr.png")
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/png"
    assert qr.content.startswith(b"\x89PNG")


def test_demo_customer_logs_in_with_the_browser_client():
    with transaction.atomic():
        demo.user("alice@finstack.local")
    login = Client().post(
        "/_allauth/browser/v1/auth/login",
        {"email": "alice@finstack.local", "password": demo.PASSWORD},
        content_type="application/json",
    )
    assert login.status_code == 200
    assert login.json()["meta"]["is_authenticated"] is True
