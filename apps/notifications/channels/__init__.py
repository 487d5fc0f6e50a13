"""One small interface per channel; backends are chosen by settings (NOTIFICATIONS_*_BACKEND).

A backend's `send(message)` returns a `Sent` or raises `TemporaryFailure` (retried with
back-off) or `PermanentFailure` (given up, logged)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Message:
    to: tuple[str, ...]  # e-mail addresses, phone numbers or push tokens
    subject: str
    body: str
    html: str = ""
    key: str = ""  # idempotency key for providers that honour one (the delivery id)
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    provider_message_id: str = ""
    invalid_tokens: tuple[str, ...] = ()  # push tokens the provider says are gone


class TemporaryFailure(Exception):
    """The provider may take it later: retry."""


class PermanentFailure(Exception):
    """Retrying cannot help (bad address, rejected content)."""


class Backend(Protocol):
    def send(self, message: Message) -> Sent: ...


@cache
def backend(channel: str) -> Backend:
    return import_string(settings.NOTIFICATIONS_BACKENDS[channel])()
