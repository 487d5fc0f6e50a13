"""A mobile client as the app would be written: allauth headless JSON + JWT for /api/v1/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any

from django.core import mail
from django.test import TestCase
from rest_framework.test import APIClient

BASE = "/_allauth/app/v1"
PASSWORD = "correct horse battery 9"  # noqa: S105


class MobileClient:
    def __init__(self, user_agent: str = "FinstackApp/1.0 (iPhone; iOS 19)") -> None:
        self.http = APIClient(HTTP_USER_AGENT=user_agent)
        self.session_token: str | None = None
        self.access: str | None = None
        self.refresh: str | None = None

    def _headers(self, bearer: bool) -> dict[str, str]:
        # The session token carries a flow until tokens are issued; then the access token does.
        if self.access:
            return {"HTTP_AUTHORIZATION": f"Bearer {self.access}"} if bearer else {}
        return {"HTTP_X_SESSION_TOKEN": self.session_token} if self.session_token else {}

    def call(self, method: str, path: str, data: Any = None, *, bearer: bool = True) -> Any:
        """One request; after-commit work (e-mails, events) runs as it would in production."""
        url = path if path.startswith(("/api/", "/admin/")) else f"{BASE}{path}"
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = getattr(self.http, method)(url, data, format="json", **self._headers(bearer))
        body = response.json() if response.content else None
        meta = (body or {}).get("meta", {}) if isinstance(body, dict) else {}
        self.session_token = meta.get("session_token", self.session_token)
        self.access = meta.get("access_token", self.access)
        self.refresh = meta.get("refresh_token", self.refresh)
        response.body = body
        return response

    def sign_up(self, email: str, password: str = PASSWORD) -> Any:
        response = self.call("post", "/auth/signup", {"email": email, "password": password})
        assert response.status_code == 401, response.body  # pending e-mail verification
        return self.call("post", "/auth/email/verify", {"key": last_code(email)})

    def log_in(self, email: str, password: str = PASSWORD) -> Any:
        return self.call("post", "/auth/login", {"email": email, "password": password})


def last_code(email: str) -> str:
    """The six-digit code of the newest e-mail with a code sent to this address."""
    for message in reversed([m for m in mail.outbox if email in m.to]):
        found = re.search(r"\b(\d{6})\b", message.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no code mailed to {email}")


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 code, computed independently of allauth (SHA-1, 30 s, 6 digits)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def access_token(user: Any, session_owner: Any = None) -> str:
    """A login session of `session_owner` (default: the user), as the app gets one at login,
    and a JWT access token naming `user` for it (tests and bench/ use it without a sign-in)."""
    from allauth.headless.tokens.strategies.jwt import internal
    from django.contrib.sessions.backends.db import SessionStore

    owner = session_owner or user
    session = SessionStore()
    session["_auth_user_id"] = str(owner.pk)
    session["_auth_user_backend"] = "apps.accounts.backends.AuthenticationBackend"
    session["_auth_user_hash"] = owner.get_session_auth_hash()
    session.create()
    return internal.create_access_token(user, session, {})


def age_login(app: MobileClient, seconds: int) -> None:
    """Make the app's last authentication `seconds` older (time passing, without sleeping)."""
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from apps.accounts import token_keys

    payload = token_keys.decode_token(app.access, "access")
    session = SessionStore(token_keys.session_key_from_sid(payload["sid"]))
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{**r, "at": r["at"] - seconds} for r in records]
    session.save()


def with_two_factor(app: MobileClient) -> str:
    """Turn on TOTP for the signed-in app user (as the app would); returns the secret."""
    assert app.call("post", "/auth/reauthenticate", {"password": PASSWORD}).status_code == 200
    secret = app.call("get", "/account/authenticators/totp").body["meta"]["secret"]
    activated = app.call("post", "/account/authenticators/totp", {"code": totp(secret)})
    assert activated.status_code == 200, activated.body
    return secret


def staff_totp_code(user: Any, at: float | None = None) -> str:
    """The current code of the staff member's authenticator (`services.staff_otp_enrol`)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    return totp(base64.b32encode(device.bin_key).decode(), at=at)


def pending_flows(response: Any) -> list[str]:
    return [f["id"] for f in response.body["data"]["flows"] if f.get("is_pending")]


def log_in_with_emailed_code(app: MobileClient, email: str, password: str = PASSWORD) -> Any:
    """Password, then the code mailed to verify the address (a first login in the app)."""
    first = app.log_in(email, password)
    assert first.status_code == 401, first.body
    assert pending_flows(first) == ["verify_email"]
    return app.call("post", "/auth/email/verify", {"key": last_code(email)})


def staff_log_in(user: Any, password: str = PASSWORD) -> MobileClient:
    """A staff member's first app login: password, e-mailed code, then their TOTP code."""
    app = MobileClient()
    after_email = log_in_with_emailed_code(app, user.email, password)
    assert after_email.status_code == 401, after_email.body
    assert pending_flows(after_email) == ["mfa_authenticate"]
    assert app.access is None
    done = app.call("post", "/auth/2fa/authenticate", {"code": staff_totp_code(user)})
    assert done.status_code == 200, done.body
    return app
