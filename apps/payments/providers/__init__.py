"""The bank/provider interface. A provider collects (deposits) and pays out (withdrawals),
answers a status query, and calls our webhook, signed, when something happens.

Calls take our payment id as their idempotency key: asking twice does one thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class ProviderError(Exception):
    """Temporary: the provider could not be reached or asked us to retry."""


class ProviderRejected(Exception):
    """Final: the provider refused the request (closed account, invalid details...)."""


@dataclass(frozen=True)
class Accepted:
    provider_ref: str


@dataclass(frozen=True)
class Status:
    state: str  # "pending", "succeeded", "failed" or "unknown" (it never got our request)
    reason: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    type: str  # "collect.succeeded", "collect.failed", "payout.succeeded", "payout.failed", ...
    payment_id: str  # our reference, echoed back
    provider_ref: str
    reason: str = ""


class Provider(Protocol):
    name: str

    def tokenize(self, *, iban: str, holder_name: str) -> str: ...

    def collect(self, *, payment_id: str, token: str, amount: int, currency: str) -> Accepted: ...

    def payout(self, *, payment_id: str, token: str, amount: int, currency: str) -> Accepted: ...

    def status(self, *, payment_id: str) -> Status: ...

    def cancel(self, *, payment_id: str) -> bool: ...  # True: it will never happen

    def settlement_report(self, *, day: date) -> list[dict]: ...  # reference, kind, amount..

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvent: ...


@cache
def get(name: str) -> Provider:
    try:
        path = settings.PAYMENTS_PROVIDERS[name]
    except KeyError:
        raise LookupError(f"unknown provider {name!r}") from None
    return import_string(path)()
