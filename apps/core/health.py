"""Liveness and readiness probes (plain Django views: no auth, no throttling, no cache).

`ProbeMiddleware` answers them before anything reads the Host header: the kubelet probes a
pod by its IP, which `ALLOWED_HOSTS` rightly does not list, so the host check (and the HTTPS
redirect) must not apply to these two paths, and to nothing else.

Readiness means "this pod can serve": the database and its migrations. Redis is reported
(body and the `finstack_dependency_up` gauge) but a Redis blip does not take every pod out of
the load balancer: the API keeps serving without it by design. Workers, which cannot work
without their broker, have their own check: `manage.py health --worker`.
"""

from collections.abc import Callable

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"unavailable: {exc.__class__.__name__}"
    return "ok"


def redis_state() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return f"unavailable: {exc.__class__.__name__}"
    return "ok"


def broker() -> str:
    from celery import current_app

    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001 - any transport error means "cannot take tasks"
        return f"unavailable: {exc.__class__.__name__}"
    return "ok"


_migrated = False


def migrations() -> str:
    """A pod is not ready to serve until the migrations job has run (k8s rolling deploys)."""
    global _migrated
    if not _migrated:
        try:
            executor = MigrationExecutor(connection)
            _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            return f"unavailable: {exc.__class__.__name__}"
    return "ok" if _migrated else "pending"


def checks(*, worker: bool = False) -> tuple[str, dict[str, str]]:
    """("ok" | "degraded" | "unavailable", each check's state)."""
    db = database()
    found = {"database": db, "migrations": migrations() if db == "ok" else "unknown"}
    found["redis"] = redis_state()
    required = ["database", "migrations"]
    if worker:
        found["broker"] = broker()
        required += ["redis", "broker"]
    if any(found[name] != "ok" for name in required):
        return "unavailable", found
    return ("ok" if all(v == "ok" for v in found.values()) else "degraded"), found


def readyz(request: HttpRequest) -> JsonResponse:
    status, found = checks()
    return JsonResponse(
        {"status": status, "checks": found}, status=503 if status == "unavailable" else 200
    )


PROBES = {"/healthz": healthz, "/readyz": readyz}


class ProbeMiddleware:
    """Answers GET /healthz and /readyz whatever the Host header (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
