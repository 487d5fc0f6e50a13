"""OpenTelemetry tracing: off by default; on when the standard OTEL_* variables ask for it
(OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER=otlp|console). Spans for each request
(Django), SQL statement (psycopg) and Celery task, exported in batches."""

from __future__ import annotations

import os

_configured = False


def wanted() -> bool:
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "")
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")) or exporter in ("otlp", "console")


def configure() -> bool:
    """Install the tracer provider and the instrumentations once per process."""
    global _configured
    if _configured or not wanted():
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    if os.environ.get("OTEL_TRACES_EXPORTER") == "console":
        exporter: SpanExporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    service = os.environ.get("OTEL_SERVICE_NAME", "finstack")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    PsycopgInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    _configured = True
    return True
