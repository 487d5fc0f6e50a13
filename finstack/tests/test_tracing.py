"""Tracing is off by default and, once OTEL_* variables turn it on, traces requests and their
SQL; log lines carry the trace id."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from opentelemetry.sdk.trace import TracerProvider

from apps.core.logging import RequestIdFilter
from finstack import tracing

SNIPPET = """
import django
django.setup()
from django.test import Client
from opentelemetry import trace
print("STATUS", Client().get("/readyz").status_code)
trace.get_tracer_provider().force_flush()
"""


def test_off_by_default(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.wanted() is False
    assert tracing.configure() is False


@pytest.mark.django_db
def test_a_request_and_its_sql_are_traced_when_asked():
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "-c", SNIPPET],
        cwd=Path(__file__).resolve().parents[2],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "finstack.settings.test",
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_SERVICE_NAME": "finstack-test",
            "DATABASE_URL": url,
            "REDIS_URL": settings.REDIS_URL,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "STATUS 200" in result.stdout, result.stderr[-2000:]
    assert '"name": "GET readyz"' in result.stdout or '"http.route": "readyz"' in result.stdout
    assert '"db.system": "postgresql"' in result.stdout
    assert '"service.name": "finstack-test"' in result.stdout


def test_log_lines_carry_the_trace_id():
    span = TracerProvider().get_tracer("test").start_span("work")
    record = logging.LogRecord("x", logging.INFO, "f", 1, "hello", (), None)
    from opentelemetry import trace

    with trace.use_span(span, end_on_exit=True):
        RequestIdFilter().filter(record)
    assert record.trace_id == f"{span.get_span_context().trace_id:032x}"
    RequestIdFilter().filter(record)
    assert record.trace_id == "-"
