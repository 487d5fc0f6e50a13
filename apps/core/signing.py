"""Webhook signatures, Stripe's scheme: header `t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`, checked in constant time within a tolerance window (replays of old
deliveries fail). During a secret rotation several secrets verify (the header may also carry
one v1 per secret, as Stripe's does)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    pass


def sign(body: bytes, secret: str, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def verify(
    body: bytes, header: str, secrets: str | Iterable[str], now: float | None = None
) -> None:
    try:
        parts = [item.split("=", 1) for item in header.split(",")]
        at = int(next(value for key, value in parts if key == "t"))
        given = [value for key, value in parts if key == "v1"]
    except (StopIteration, ValueError) as exc:
        raise BadSignature("malformed signature header") from exc
    if not given:
        raise BadSignature("malformed signature header")
    now = time.time() if now is None else now
    if abs(now - at) > TOLERANCE_SECONDS:
        raise BadSignature("timestamp outside the tolerance window")
    message = f"{at}.".encode() + body
    for secret in [secrets] if isinstance(secrets, str) else secrets:
        expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, value) for value in given):
            return
    raise BadSignature("signature mismatch")
