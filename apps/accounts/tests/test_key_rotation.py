"""The steps of docs/runbooks/rotating-keys.md for the mobile tokens' keys, as the app sees
them: a signed-in app keeps working through a JWT signing-key rotation and a SECRET_KEY
rotation, and only a retired key's tokens stop (the negative control of each)."""

import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

from apps.accounts import token_keys
from apps.accounts.tests.mobile import MobileClient

pytestmark = pytest.mark.django_db


def new_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def app() -> MobileClient:
    client = MobileClient()
    assert client.sign_up("ann@example.com").status_code == 200
    return client


def kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def me(app: MobileClient) -> int:
    return app.call("get", "/api/v1/me").status_code


def refresh(app: MobileClient) -> int:
    response = app.call("post", "/tokens/refresh", {"refresh_token": app.refresh}, bearer=False)
    if response.status_code == 200:
        app.access = response.body["data"]["access_token"]
        app.refresh = response.body["data"]["refresh_token"]
    return response.status_code


def test_jwks_publishes_the_signing_key_and_the_previous_ones(client, settings):
    old_kid = next(iter(token_keys.verifying_keys()))
    settings.JWT_PREVIOUS_KEYS = [settings.HEADLESS_JWT_PRIVATE_KEY]
    settings.HEADLESS_JWT_PRIVATE_KEY = new_rsa_pem()
    response = client.get("/.well-known/jwks.json", HTTP_HOST="testserver")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys][1] == old_kid
    assert len({k["kid"] for k in keys}) == 2
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" for k in keys)
    assert not any("d" in k or "p" in k for k in keys)  # public halves only


def test_a_signing_key_rotation_logs_nobody_out(app, settings):
    old_key, old_access = settings.HEADLESS_JWT_PRIVATE_KEY, app.access
    old_kid = kid(old_access)

    # Step 1: the new key signs, the old one is kept as a previous key.
    settings.HEADLESS_JWT_PRIVATE_KEY, settings.JWT_PREVIOUS_KEYS = new_rsa_pem(), [old_key]
    assert me(app) == 200  # a token signed before the rotation still works
    assert refresh(app) == 200  # and so does its refresh token
    assert kid(app.access) != old_kid  # the new tokens are signed by the new key
    assert me(app) == 200

    # Step 2: after the refresh-token lifetime, the old key is retired.
    settings.JWT_PREVIOUS_KEYS = []
    assert me(app) == 200
    app.access = old_access
    assert me(app) == 401  # only a token of the retired key is refused


def test_without_the_previous_key_a_rotation_would_end_every_login(app, settings):
    settings.HEADLESS_JWT_PRIVATE_KEY, settings.JWT_PREVIOUS_KEYS = new_rsa_pem(), []
    assert me(app) == 401
    assert refresh(app) == 400


def test_a_secret_key_rotation_logs_nobody_out(app, settings):
    old_secret = settings.SECRET_KEY
    old_access = app.access
    # Step 1 (every process): the new secret is accepted before any process uses it.
    settings.SECRET_KEY_FALLBACKS = ["the-new-secret-key-for-the-rotation-test"]
    assert me(app) == 200
    # Step 2: the new secret becomes SECRET_KEY, the old one a fallback.
    settings.SECRET_KEY = "the-new-secret-key-for-the-rotation-test"
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert me(app) == 200  # the session id in the token, and the session, read via the fallback
    assert me(app) == 200  # the session kept its key (the token names it)
    assert refresh(app) == 200
    assert me(app) == 200
    # Step 3: the fallback is dropped; the tokens made after the rotation still work.
    settings.SECRET_KEY_FALLBACKS = []
    assert me(app) == 200
    app.access = old_access
    assert me(app) == 401  # its session id is under the dropped secret


def test_without_the_fallback_a_secret_key_rotation_would_end_every_login(app, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "another-secret-key-entirely", []
    assert me(app) == 401
    assert refresh(app) == 400


@override_settings(JWT_PREVIOUS_KEYS=["not a key"])
def test_keys_that_are_not_rsa_pem_are_refused_loudly():
    with pytest.raises(ValueError, match="PEM"):
        token_keys.verifying_keys()


def test_the_earlier_keys_are_read_from_the_environment_and_secret_files(tmp_path):
    previous = tmp_path / "jwt_previous_keys"
    previous.write_text(new_rsa_pem() + "\n" + new_rsa_pem())
    snippet = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(len(s.SECRET_KEY_FALLBACKS), len(s.JWT_PREVIOUS_KEYS))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", snippet],
        cwd=Path(__file__).resolve().parents[3],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "finstack.settings.test",
            "SECRET_KEY_FALLBACKS": "first-old-key\nsecond-old-key",
            "JWT_PREVIOUS_KEYS_FILE": str(previous),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["2", "2"]
