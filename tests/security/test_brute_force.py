"""Password and TOTP guessing against the mobile login (allauth headless, `/_allauth/app/v1`),
with the real database and Redis: concurrent guesses lock the account after a handful, an
unknown e-mail gets exactly the same answers as a wrong password, the right password waits
out the lock, wrong second-factor codes lock too, and a replayed TOTP code is refused."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.tests.mobile import BASE, PASSWORD, MobileClient, totp, with_two_factor

EMAIL = "bruno@example.com"
GUESSES = 50
LIMIT = 5  # RATE_LIMIT_LOGIN_FAILED: 5 per account in 15 minutes (and 10 per IP a minute)


def log_in(client: APIClient, email: str, password: str):
    response = client.post(
        f"{BASE}/auth/login", {"email": email, "password": password}, format="json"
    )
    return response.status_code, response.json(), response.get("Retry-After")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_wrong_passwords_lock_the_account(redis_server):
    assert MobileClient().sign_up(EMAIL).status_code == 200
    start = threading.Barrier(GUESSES)

    def guess(n: int):
        try:
            # Each guess from its own address: only the per-account limit can stop them.
            client = APIClient(REMOTE_ADDR=f"198.51.100.{n + 1}")
            start.wait(timeout=30)
            return log_in(client, EMAIL, f"wrong guess {n}")
        finally:
            connection.close()

    with ThreadPoolExecutor(GUESSES) as pool:
        answers = list(pool.map(guess, range(GUESSES)))

    codes = Counter(body["errors"][0]["code"] for _, body, _ in answers)
    assert {status for status, _, _ in answers} == {400}
    assert set(codes) <= {"email_password_mismatch", "too_many_login_attempts"}
    # At most LIMIT guesses were ever checked against the password; the rest were refused
    # before the password was looked at (allauth counts under a Redis lock).
    assert 1 <= codes["email_password_mismatch"] <= LIMIT, codes
    assert codes["too_many_login_attempts"] >= GUESSES - LIMIT
    for _, body, retry_after in answers:
        if body["errors"][0]["code"] == "too_many_login_attempts":
            assert 0 < int(retry_after) <= 900

    # Locked: even the right password is refused, from a fresh address, with Retry-After.
    status, body, retry_after = log_in(APIClient(REMOTE_ADDR="203.0.113.50"), EMAIL, PASSWORD)
    assert (status, [e["code"] for e in body["errors"]]) == (400, ["too_many_login_attempts"])
    assert 800 < int(retry_after) <= 900
    assert "meta" not in body  # no tokens


@pytest.mark.redis
@pytest.mark.django_db
def test_an_unknown_email_gets_the_same_answers_as_a_wrong_password(redis_server):
    assert MobileClient().sign_up(EMAIL).status_code == 200
    known = APIClient(REMOTE_ADDR="198.51.100.1")
    unknown = APIClient(REMOTE_ADDR="198.51.100.2")  # another address: the IP limit stays out
    for attempt in range(LIMIT + 2):
        wrong = log_in(known, EMAIL, "not the password")
        nobody = log_in(unknown, "nobody@example.com", "not the password")
        assert (wrong[0], wrong[1]) == (nobody[0], nobody[1]), attempt
        assert (wrong[2] is None) == (nobody[2] is None), attempt
        expected = "email_password_mismatch" if attempt < LIMIT else "too_many_login_attempts"
        assert wrong[1]["errors"][0]["code"] == expected, attempt


@pytest.mark.redis
@pytest.mark.django_db
def test_wrong_second_factor_codes_lock_the_login(redis_server):
    app = MobileClient()
    assert app.sign_up(EMAIL).status_code == 200
    secret = with_two_factor(app)
    phone = MobileClient(user_agent="FinstackApp/1.0 (Pixel 11)")
    assert phone.log_in(EMAIL).status_code == 401  # the second factor is pending
    good = totp(secret, at=time.time() + 30)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(LIMIT):
        refused = phone.call("post", "/auth/2fa/authenticate", {"code": wrong})
        assert (refused.status_code, refused.body["errors"][0]["code"]) == (400, "incorrect_code")
    locked = phone.call("post", "/auth/2fa/authenticate", {"code": good})
    assert locked.status_code == 400
    assert locked.body["errors"][0]["code"] == "too_many_login_attempts"
    assert phone.access is None


@pytest.mark.redis
@pytest.mark.django_db
def test_a_replayed_totp_code_is_refused(redis_server):
    app = MobileClient()
    assert app.sign_up(EMAIL).status_code == 200
    secret = with_two_factor(app)
    code = totp(secret, at=time.time() + 30)  # the activation spent the current one
    phone = MobileClient(user_agent="FinstackApp/1.0 (Pixel 11)")
    assert phone.log_in(EMAIL).status_code == 401
    assert phone.call("post", "/auth/2fa/authenticate", {"code": code}).status_code == 200

    tablet = MobileClient(user_agent="FinstackApp/1.0 (iPad)")
    assert tablet.log_in(EMAIL).status_code == 401
    replay = tablet.call("post", "/auth/2fa/authenticate", {"code": code})
    assert (replay.status_code, replay.body["errors"][0]["code"]) == (400, "incorrect_code")
    assert tablet.access is None


@pytest.mark.redis
@pytest.mark.django_db
def test_the_code_that_activated_totp_cannot_log_in(redis_server):
    app = MobileClient()
    assert app.sign_up(EMAIL).status_code == 200
    assert app.call("post", "/auth/reauthenticate", {"password": PASSWORD}).status_code == 200
    secret = app.call("get", "/account/authenticators/totp").body["meta"]["secret"]
    code = totp(secret)
    assert app.call("post", "/account/authenticators/totp", {"code": code}).status_code == 200
    phone = MobileClient(user_agent="FinstackApp/1.0 (Pixel 11)")
    assert phone.log_in(EMAIL).status_code == 401
    replay = phone.call("post", "/auth/2fa/authenticate", {"code": code})
    assert (replay.status_code, replay.body["errors"][0]["code"]) == (400, "incorrect_code")


@pytest.mark.redis
@pytest.mark.django_db
def test_a_replayed_totp_code_is_logged(redis_server, caplog):
    app = MobileClient()
    assert app.sign_up(EMAIL).status_code == 200
    secret = with_two_factor(app)
    code = totp(secret, at=time.time() + 30)
    phone = MobileClient(user_agent="FinstackApp/1.0 (Pixel 11)")
    assert phone.log_in(EMAIL).status_code == 401
    assert phone.call("post", "/auth/2fa/authenticate", {"code": code}).status_code == 200
    tablet = MobileClient(user_agent="FinstackApp/1.0 (iPad)")
    assert tablet.log_in(EMAIL).status_code == 401
    with caplog.at_level(logging.INFO):
        replay = tablet.call("post", "/auth/2fa/authenticate", {"code": code})
    assert replay.status_code == 400
    replays = [r for r in caplog.records if "replay" in r.getMessage().lower()]
    assert len(replays) == 1
    assert replays[0].levelno == logging.WARNING
    assert code not in replays[0].getMessage()  # the code itself is never logged
