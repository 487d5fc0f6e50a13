"""Secrets and PII never reach the logs. Known values (a password, the JWTs allauth issues, a
TOTP secret and codes, a tax id, a national id number, an IBAN) are seeded, flows that log are
run (sign-up, login, failed logins, lockout, two-factor, KYC profile, documents and submit,
API errors, a 500, a withdrawal refused), and no captured line of any logger may carry them.
The session-wide check in tests/security/pii.py then keeps them out of the rest of the run."""

from __future__ import annotations

import logging
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path
from pythonjsonlogger.json import JsonFormatter
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from apps.accounts.tests.mobile import MobileClient, last_code, totp
from apps.core.logging import RedactSecretsFilter
from apps.kyc.tests.factories import PROFILE, jpeg, pdf, verified_phone
from apps.payments.tests.factories import iban
from tests.security import pii

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
EMAIL = "petra@example.com"
PASSWORD = "Secret-Pw-for-Logs-417!"  # noqa: S105
TAX_ID = "DE 987 654 321"
NATIONAL_ID = "L01X00T47"
IBAN = iban("0042")


class Boom(APIView):
    permission_classes = (AllowAny,)
    throttle_classes = ()

    def post(self, request):
        raise RuntimeError("boom")  # an unexpected crash: logged with its traceback


urlpatterns = [
    path("api/v1/boom", Boom.as_view()),
    path("", include("finstack.urls")),
]


def test_the_watcher_sees_every_logger_at_debug():
    position = pii.mark()
    secret = "seeded-for-the-self-test-only"
    logging.getLogger("some.library.deep.down").debug("value=%s", secret)
    lines = pii.lines_since(position)
    assert any(secret in line for line in lines)
    assert pii.leaks_in(lines, [secret]) == [(f"seeded secret {secret!r}", lines[-1])]
    del pii._collector.lines[position:]  # our own planted line is not a leak of the suite


def test_a_jwt_or_totp_uri_is_caught_even_unseeded():
    lines = [
        "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
        "uri otpauth://totp/Finstack:x?secret=JBSWY3DPEHPK3PXP",
    ]
    assert [what for what, _ in pii.leaks_in(lines, [])] == ["jwt", "otpauth_uri"]


def test_a_seeded_code_counts_where_it_stands_alone_not_inside_a_longer_value():
    code = "771869"
    lines = [
        "task succeeded in 0.03777718699984689s",  # the digits, but part of another number
        "task 03565ef2-d25a-43e4-b964-fa771869ae66",  # and of a hex id
        f"code={code}",
        f"code {code}.",
    ]
    assert [line for _, line in pii.leaks_in(lines, [code])] == lines[2:]


def test_secrets_never_reach_the_logs(settings, caplog, forget_attempts):
    settings.ROOT_URLCONF = "tests.security.test_pii_logs"
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    pii.seed(PASSWORD, TAX_ID, NATIONAL_ID, IBAN)
    position = pii.mark()
    caplog.set_level(logging.DEBUG)

    # Sign-up, login, tokens.
    app = MobileClient()
    signed_up = app.call("post", "/auth/signup", {"email": EMAIL, "password": PASSWORD})
    assert signed_up.status_code == 401
    code = last_code(EMAIL)
    assert app.call("post", "/auth/email/verify", {"key": code}).status_code == 200
    pii.seed(app.access, app.refresh, app.session_token or "")
    assert app.call("get", "/api/v1/me").status_code == 200

    # Failed logins up to the lockout, then wait it out.
    thief = MobileClient()
    for attempt in range(6):
        thief.log_in(EMAIL, f"{PASSWORD}-{attempt}")
    phone = MobileClient(user_agent="FinstackApp/1.0 (Pixel 11)")
    phone.http.defaults["REMOTE_ADDR"] = "198.51.100.77"
    refused = phone.log_in(EMAIL, PASSWORD)
    assert refused.status_code == 400  # locked for 15 minutes
    forget_attempts()  # as if the 15 minutes had passed

    # Two-factor: the secret, the URI, the codes.
    assert app.call("post", "/auth/reauthenticate", {"password": PASSWORD}).status_code == 200
    offered = app.call("get", "/account/authenticators/totp").body["meta"]
    secret = offered["secret"]
    pii.seed(secret, offered["totp_url"])
    first = totp(secret)
    assert app.call("post", "/account/authenticators/totp", {"code": first}).status_code == 200

    # The second factor: a wrong code, then a good one.
    assert phone.log_in(EMAIL, PASSWORD).status_code == 401  # the second factor is pending
    wrong = f"{(int(first) + 1) % 1_000_000:06d}"
    assert phone.call("post", "/auth/2fa/authenticate", {"code": wrong}).status_code == 400
    good = totp(secret, at=time.time() + 30)
    pii.seed(good, first)
    assert phone.call("post", "/auth/2fa/authenticate", {"code": good}).status_code == 200
    pii.seed(phone.access, phone.refresh)
    refreshed = phone.call("post", "/tokens/refresh", {"refresh_token": phone.refresh})
    assert refreshed.status_code == 200

    # KYC: the profile with its tax id, documents with a national id number, submit.
    me = phone.http
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {phone.access}")
    assert (
        me.put("/api/v1/kyc/profile", {**PROFILE, "tax_id": TAX_ID}, format="json").status_code
        == 200
    )
    bad = me.put("/api/v1/kyc/profile", {**PROFILE, "tax_id": f"{TAX_ID}<>"}, format="json")
    assert bad.status_code == 400
    verified_phone(get_user_model().objects.get(email=EMAIL).pk)
    for kind, data, name in [
        ("national_id_front", jpeg(), "front.jpg"),
        ("national_id_back", jpeg(), "back.jpg"),
        ("selfie", jpeg(), "me.jpg"),
        ("proof_of_address", pdf(), "bill.pdf"),
    ]:
        file = SimpleUploadedFile(name, data, content_type="image/jpeg")
        response = me.post(
            "/api/v1/kyc/documents",
            {"type": kind, "file": file, "number": NATIONAL_ID},
            format="multipart",
        )
        assert response.status_code == 201, response.content
    assert me.post("/api/v1/kyc/submit", {"tier": 2}, format="json").status_code == 200

    # Money leaving: a bank account by IBAN (refused: no fresh strong login), errors, a 500.
    me.post("/api/v1/funding-sources", {"iban": IBAN, "holder_name": "Petra", "currency": "EUR"})
    me.post("/api/v1/transfers", {"amount": PASSWORD}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    me.post(
        "/api/v1/transfers", f'{{"note": "{PASSWORD}\\u0000"}}', content_type="application/json"
    )
    crashed = me.post("/api/v1/boom", {"password": PASSWORD, "tax_id": TAX_ID}, format="json")
    assert crashed.status_code == 500

    lines = pii.lines_since(position)
    assert len(lines) > 5, "the flows above log (a failed login, the 500, ...)"
    assert any("boom" in line for line in lines)  # the crash was logged, with its traceback
    secrets = [PASSWORD, TAX_ID, NATIONAL_ID, IBAN, secret, good, first]
    secrets += [phone.access, phone.refresh, app.access, app.refresh]
    assert pii.leaks_in(lines, secrets) == []
    assert pii.leaks_in([r.getMessage() for r in caplog.records], secrets) == []


JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI0MiIsInNpZCI6InNlc3Npb24ifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"


def test_tokens_and_totp_uris_are_redacted_by_the_console_filter():
    """Whatever logs one (a library, a careless f-string), the output carries no token."""
    console = [h for h in logging.getLogger().handlers if h is not pii._collector]
    assert any(isinstance(f, RedactSecretsFilter) for h in console for f in h.filters)
    position = pii.mark()
    log = logging.getLogger("some.library")
    log.warning("refresh failed for %s", JWT)
    log.info("Authorization: Bearer %s", "abcdefghijklmnopqrstuvwxyz012345")
    log.info("endpoint secret is %s", "whsec_0123456789abcdefghijKLMNOP-_xyz")
    log.info("provisioning otpauth://totp/Finstack:ann?secret=JBSWY3DPEHPK3PXP&issuer=Finstack")
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        log.exception("crashed")
    lines = pii.lines_since(position)
    seeded = [JWT, "JBSWY3DPEHPK3PXP", "abcdefghijklmnopqrstuvwxyz012345"]
    assert pii.leaks_in(lines, [*seeded, "whsec_0123456789abcdefghijKLMNOP-_xyz"]) == []
    text = "\n".join(lines)
    assert text.count("[jwt]") == 2
    assert "Bearer [redacted]" in text
    assert "endpoint secret is [webhook-secret]" in text
    assert "[otpauth-uri]" in text
    assert "ValueError: bad token [jwt]" in text


def test_the_json_formatter_gets_the_redacted_traceback_too():
    record = logging.getLogger("x").makeRecord("x", logging.ERROR, "f", 1, "boom %s", (JWT,), None)
    try:
        raise ValueError(JWT)
    except ValueError:
        record.exc_info = sys.exc_info()
    assert RedactSecretsFilter().filter(record)
    out = JsonFormatter("%(message)s").format(record)
    assert JWT not in out
    assert "[jwt]" in out
