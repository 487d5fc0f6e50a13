"""Webhook signatures, Stripe's scheme: header `t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`, checked in constant time within a tolerance window (replays of old
deliveries fail)."""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    pass


def sign(body: bytes, secret: str, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def verify(body: bytes, header: str, secret: str, now: float | None = None) -> None:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        at = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise BadSignature("malformed signature header") from exc
    now = time.time() if now is None else now
    if abs(now - at) > TOLERANCE_SECONDS:
        raise BadSignature("timestamp outside the tolerance window")
    expected = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise BadSignature("signature mismatch")
