"""Provider callbacks: verified and stored once, then applied to their payment by a task."""

from __future__ import annotations

import json
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core import signing
from apps.ledger import services as ledger_services
from apps.payments import errors, providers
from apps.payments.models import (
    Payment,
    State,
    WebhookEvent,
)
from apps.payments.services._common import (
    _attention,
    _enqueue,
    _fail,
    _locked,
    _log,
    _over_max_balance,
    _succeed,
)


def webhook_receive(*, provider: str, body: bytes, headers: dict[str, str]) -> bool:
    """Verify and store a provider callback; processing happens in a task. False if this
    event id was seen before (the provider retried a delivery): nothing new happens."""
    try:
        adapter = providers.get(provider)
    except LookupError as exc:
        raise errors.WebhookRejected("Unknown provider.") from exc
    try:
        event = adapter.parse_webhook(body=body, headers=headers)
    except signing.BadSignature as exc:
        raise errors.WebhookRejected(str(exc)) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.WebhookRejected("Malformed payload.") from exc
    with transaction.atomic():
        row, created = WebhookEvent.objects.get_or_create(
            provider=provider,
            event_id=event.event_id,
            defaults={
                "event_type": event.type,
                "payment_id": _uuid_or_none(event.payment_id),
                "raw_body": body.decode("utf-8", "replace"),
            },
        )
        if created:
            webhook_id = str(row.pk)
            transaction.on_commit(
                lambda: _enqueue("payments.process_webhook", webhook_id), robust=True
            )
    return created


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except (TypeError, ValueError):
        return None


@transaction.atomic
def webhook_process(*, webhook_id: UUID) -> str:
    webhook = WebhookEvent.objects.select_for_update().get(pk=webhook_id)
    if webhook.processed_at:
        return webhook.outcome
    outcome = _apply_webhook(webhook)
    webhook.processed_at, webhook.outcome = timezone.now(), outcome
    webhook.save(update_fields=["processed_at", "outcome"])
    return outcome


def _apply_webhook(webhook: WebhookEvent) -> str:
    payment = _locked(webhook.payment_id) if webhook.payment_id else None
    if payment is None:
        return "unknown payment"
    kind, _, what = webhook.event_type.partition(".")
    expected = "collect" if payment.direction == Payment.Direction.DEPOSIT else "payout"
    _log(payment, "webhook", webhook.event_type, data={"event_id": webhook.event_id})
    if kind != expected:
        return "ignored: wrong kind"
    reason = _reason(webhook)
    if what == "succeeded":
        if payment.state == State.PROCESSING:
            try:
                with transaction.atomic():
                    _succeed(payment, "the bank confirmed")
            except (ledger_services.AccountClosed, ledger_services.AccountFrozen):
                return _attention(payment, "the bank paid but the wallet cannot take it")
            except ledger_services.BalanceCeilingExceeded:
                return _over_max_balance(payment)
            return "succeeded"
        if payment.state in (State.FAILED, State.CANCELED):
            return _attention(payment, "the bank says it succeeded after we gave it up")
        return "ignored: already " + payment.state
    if what == "failed":
        if payment.state == State.PROCESSING:
            _fail(payment, "bank_failed", reason or "refused by the bank")
            return "failed"
        if payment.state == State.SUCCEEDED:
            return _attention(payment, "the bank says it failed after it succeeded")
        return "ignored: already " + payment.state
    return "ignored: " + what  # e.g. a late "processing" after the outcome


def _reason(webhook: WebhookEvent) -> str:
    try:
        return str(json.loads(webhook.raw_body).get("reason", ""))[:200]
    except ValueError:
        return ""
