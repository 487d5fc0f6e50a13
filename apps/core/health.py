"""Liveness and readiness probes (plain Django views: no auth, no throttling, no cache)."""

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"unavailable: {exc.__class__.__name__}"
    return "ok"


def _redis() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return f"unavailable: {exc.__class__.__name__}"
    return "ok"


_migrated = False


def _migrations() -> str:
    """A pod is not ready to serve until the migrations job has run (k8s rolling deploys)."""
    global _migrated
    if not _migrated:
        try:
            executor = MigrationExecutor(connection)
            _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            return f"unavailable: {exc.__class__.__name__}"
    return "ok" if _migrated else "pending"


def readyz(request: HttpRequest) -> JsonResponse:
    database = _database()
    checks = {
        "database": database,
        "migrations": _migrations() if database == "ok" else "unknown",
        "redis": _redis(),
    }
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
