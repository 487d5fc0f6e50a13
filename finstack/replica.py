"""Read-side work that tolerates lag goes to a streaming replica (DATABASE_REPLICA_URL).

Only named read-only routes use it (`REPLICA_ROUTES`: history pages, statements, reports,
the admin's list pages), and only for GET/HEAD, outside any transaction, and never for a
client that has just written: a non-safe request pins its credential (bearer token or
session cookie, hashed) to the primary for `DATABASE_REPLICA_PIN_SECONDS`, so a customer who
sends money and opens their history sees the transfer. Every money read, every
`select_for_update` and every raw cursor stays on the primary, and so do the models of apps
outside `REPLICA_APPS` (sessions, users, tokens: authentication never reads a lagging copy).
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)
REPLICA = "replica"
_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reads", default=False)


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        # Sessions, users, tokens and idempotency records stay on the primary: a token issued
        # a moment ago must authenticate even if its session has not replicated yet.
        if (
            _allowed.get()
            and model._meta.app_label in settings.REPLICA_APPS
            and not connections["default"].in_atomic_block
        ):
            return REPLICA
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data, one of them lagging

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"


def _credential(request: HttpRequest) -> str | None:
    raw = request.headers.get("Authorization") or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return hashlib.sha256(raw.encode()).hexdigest()[:32] if raw else None


def _pinned(credential: str | None) -> bool:
    if credential is None:
        return False
    try:
        return bool(cache.get(f"replica-pin:{credential}"))
    except Exception:  # noqa: BLE001 - without the cache, read from the primary
        return True


def _pin(credential: str | None) -> None:
    if credential is None:
        return
    try:
        cache.set(f"replica-pin:{credential}", 1, settings.DATABASE_REPLICA_PIN_SECONDS)
    except Exception:  # noqa: BLE001 - unpinned, the next read may lag: logged, not fatal
        log.warning("replica: could not pin a writer to the primary", exc_info=True)


def _eligible(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    name = match.view_name if match else ""
    return name in settings.REPLICA_ROUTES or (
        name.startswith("admin:") and name.endswith("_changelist")
    )


class ReplicaReadsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        credential = _credential(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _pin(credential)  # before the write, so no read of this client can overtake it
            return self.get_response(request)
        token = _allowed.set(False)
        request._replica_credential = credential  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            _allowed.reset(token)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> None:
        credential = getattr(request, "_replica_credential", None)
        if request.method in ("GET", "HEAD") and _eligible(request) and not _pinned(credential):
            _allowed.set(True)
