"""Prometheus metrics at /metrics. The gauges are read from PostgreSQL at scrape time, so every
gunicorn worker answers the same (no multi-process registry to keep)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily


class FinstackCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        from apps.core import outbox
        from apps.kyc import selectors as kyc_selectors
        from apps.payments import selectors as payments_selectors
        from apps.reports import selectors as reports_selectors

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
        postings = GaugeMetricFamily(
            "finstack_postings_today",
            "Ledger transactions today (UTC) by kind",
            labels=["kind", "currency"],
        )
        for row in reports_selectors.volumes(day=timezone.now().date()):
            postings.add_metric([row["kind"], row["currency"]], row["transactions"])
        yield postings


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:  # set in production: only the scraper may read
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given, token):
            return HttpResponse(status=401)
    registry = CollectorRegistry()
    registry.register(FinstackCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
