"""Prometheus metrics at /metrics.

Business gauges are read from PostgreSQL at scrape time, so every process answers the same.
Request latency and SQL statements per view (this middleware) and Celery task failures (a
signal) are counted in-process; with PROMETHEUS_MULTIPROC_DIR set (gunicorn, and workers on the
same host) prometheus_client aggregates them across processes."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

REQUEST_SECONDS = Histogram(
    "finstack_http_request_seconds",
    "Request latency by view",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DB_QUERIES = Counter("finstack_db_queries", "SQL statements run, by view", ["view"])
TASK_FAILURES = Counter("finstack_celery_task_failures", "Celery tasks that failed", ["task"])


class FinstackCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        from apps.core import batch, deliveries, health, outbox
        from apps.kyc import selectors as kyc_selectors
        from apps.payments import selectors as payments_selectors
        from apps.reports import selectors as reports_selectors
        from apps.webhooks import selectors as webhooks_selectors

        lag = outbox.lag()
        yield GaugeMetricFamily(
            "finstack_outbox_waiting_events",
            "Domain events not yet dispatched",
            value=lag["waiting"],
        )
        yield GaugeMetricFamily(
            "finstack_outbox_oldest_seconds",
            "Age of the oldest undispatched event",
            value=lag["oldest_seconds"],
        )
        yield GaugeMetricFamily(
            "finstack_outbox_given_up_events",
            "Events given up on in the last 24 h: handlers that never ran after every re-dispatch",
            value=outbox.given_up_recently(),
        )
        dead = GaugeMetricFamily(
            "finstack_dead_letters",
            "Task messages parked (poison) or failed for good",
            labels=["reason"],
        )
        for reason, count in deliveries.dead_letters_by_reason().items():
            dead.add_metric([reason], count)
        yield dead
        failing = GaugeMetricFamily(
            "finstack_job_failures_open",
            "Records a beat job could not process and went on without",
            labels=["job"],
        )
        for job, count in batch.open_failures_by_job().items():
            failing.add_metric([job], count)
        yield failing
        up = GaugeMetricFamily(
            "finstack_dependency_up",
            "1 while a dependency answers this process (Redis may be down: the API degrades)",
            labels=["dependency"],
        )
        up.add_metric(["database"], 1 if health.database() == "ok" else 0)
        up.add_metric(["redis"], 1 if health.redis_state() == "ok" else 0)
        yield up
        yield GaugeMetricFamily(
            "finstack_reconciliation_open_breaks",
            "Reconciliation breaks not yet resolved",
            value=reports_selectors.open_breaks(),
        )
        yield GaugeMetricFamily(
            "finstack_kyc_cases_waiting",
            "KYC cases waiting for a reviewer",
            value=kyc_selectors.cases_waiting(),
        )
        payments = GaugeMetricFamily(
            "finstack_payments_attention", "Payments a person should look at", labels=["reason"]
        )
        for reason, count in payments_selectors.attention().items():
            payments.add_metric([reason], count)
        yield payments
        states = GaugeMetricFamily(
            "finstack_payments", "Payments by direction and state", labels=["direction", "state"]
        )
        for (direction, state), count in payments_selectors.counts_by_state().items():
            states.add_metric([direction, state], count)
        yield states
        durations = GaugeMetricFamily(
            "finstack_payment_saga_seconds",
            "Average request-to-final-state time of payments finished in the last hour",
            labels=["direction"],
        )
        for direction, seconds in payments_selectors.saga_seconds().items():
            durations.add_metric([direction], seconds)
        yield durations
        yield GaugeMetricFamily(
            "finstack_webhook_deliveries_given_up",
            "Webhook deliveries given up in the last 24 h (every attempt of the schedule failed)",
            value=webhooks_selectors.deliveries_given_up(),
        )
        yield GaugeMetricFamily(
            "finstack_webhook_endpoints_disabled",
            "Webhook endpoints disabled (by hand or after failing)",
            value=webhooks_selectors.endpoints_disabled(),
        )
        postings = GaugeMetricFamily(
            "finstack_postings_today",
            "Ledger transactions today (UTC) by kind",
            labels=["kind", "currency"],
        )
        for row in reports_selectors.volumes(day=timezone.now().date()):
            postings.add_metric([row["kind"], row["currency"]], row["transactions"])
        yield postings


class RequestMetricsMiddleware:
    """Latency and SQL statement count per view (the route's name, not the URL: bounded)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else "unmatched"
        REQUEST_SECONDS.labels(view, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        DB_QUERIES.labels(view).inc(queries)
        return response


def count_task_failure(sender: object = None, **kwargs: object) -> None:
    TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:  # set in production: only the scraper may read
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given, token):
            return HttpResponse(status=401)
    registry = CollectorRegistry()
    registry.register(FinstackCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:  # one process (development): its own counters
        body = generate_latest(registry) + generate_latest(REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
