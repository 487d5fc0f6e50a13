"""A simulated bank that behaves like a real one: it accepts requests, answers later through
a signed webhook, and misbehaves on demand, chosen by the IBAN's last four digits (like test
card numbers):

    ...0002  the bank fails the payment (callback: *.failed)
    ...0003  no callback ever (a timeout: our recovery job polls `status`, still pending)
    ...0004  the success callback arrives twice (duplicate delivery)
    ...0005  success, then a stale "processing" callback (out of order)
    ...0006  the request itself is rejected (ProviderRejected)
    ...0007  the bank is down (ProviderError on every request)
    ...0008  the bank fails the payment, then reports it succeeded after all (a late success:
             the payment needs a person)
    anything else: success

In development the callbacks are POSTed to PAYMENTS_SIMULATED_WEBHOOK_URL by a Celery task a
few seconds later; tests call `callbacks()` and deliver them themselves.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core import signing
from apps.payments.models import SimulatedBankPayment
from apps.payments.providers import (
    Accepted,
    ProviderError,
    ProviderRejected,
    Status,
    WebhookEvent,
)

NAME = "simulated"


def _scenario(token: str) -> str:
    return token[-4:]


class SimulatedProvider:
    name = NAME

    def tokenize(self, *, iban: str, holder_name: str) -> str:
        if iban.endswith("0007"):
            raise ProviderError("simulated bank is down")
        return f"sim_{iban}"

    def _request(self, kind: str, payment_id: str, token: str, amount: int, currency: str):
        scenario = _scenario(token)
        if scenario == "0007":
            raise ProviderError("simulated bank is down")
        if scenario == "0006":
            raise ProviderRejected("account closed at the bank")
        try:
            with transaction.atomic():
                SimulatedBankPayment.objects.create(
                    payment_id=payment_id,
                    kind=kind,
                    token=token,
                    amount=amount,
                    currency=currency,
                )
        except IntegrityError:
            pass  # the same payment id again: one payment (idempotent)
        if settings.PAYMENTS_SIMULATED_AUTO_CALLBACK:
            task = current_app.tasks["payments.simulated_callbacks"]
            task.apply_async((payment_id,), countdown=settings.PAYMENTS_SIMULATED_DELAY)
        return Accepted(provider_ref=f"sim_{kind}_{payment_id}")

    def collect(self, *, payment_id: str, token: str, amount: int, currency: str) -> Accepted:
        return self._request("collect", payment_id, token, amount, currency)

    def payout(self, *, payment_id: str, token: str, amount: int, currency: str) -> Accepted:
        return self._request("payout", payment_id, token, amount, currency)

    def status(self, *, payment_id: str) -> Status:
        row = SimulatedBankPayment.objects.filter(payment_id=payment_id).first()
        if row is None:
            return Status("unknown")
        return Status(row.state, "refused by the bank" if row.state == "failed" else "")

    def cancel(self, *, payment_id: str) -> bool:
        row = SimulatedBankPayment.objects.filter(payment_id=payment_id).first()
        if row is None:
            return True
        if row.state == "pending":
            SimulatedBankPayment.objects.filter(pk=row.pk).update(state="canceled")
            return True
        return row.state == "canceled"

    def settlement_report(self, *, day: date) -> list[dict]:
        """What the bank says it settled that day (succeeded payments)."""
        rows = SimulatedBankPayment.objects.filter(state="succeeded", created_at__date=day)
        return [
            {
                "reference": str(r.payment_id),
                "direction": r.kind,
                "amount": r.amount,
                "currency": r.currency,
            }
            for r in rows
        ]

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        signing.verify(body, headers.get("Finstack-Signature", ""), verifying_secrets())
        data = json.loads(body)
        return WebhookEvent(
            event_id=data["id"],
            type=data["type"],
            payment_id=data["payment_id"],
            provider_ref=data["provider_ref"],
            reason=data.get("reason", ""),
        )


def secret() -> str:
    return settings.PAYMENTS_WEBHOOK_SECRETS[NAME]


def verifying_secrets() -> list[str]:
    """The secret in use, then the one being rotated out (both verify during the overlap)."""
    return [secret(), *settings.PAYMENTS_WEBHOOK_PREVIOUS_SECRETS.get(NAME, [])]


def callbacks(payment_id: str) -> list[tuple[bytes, dict[str, str]]]:
    """Settle the bank's side and return the signed webhook deliveries it would make."""
    row = SimulatedBankPayment.objects.filter(payment_id=payment_id).first()
    if row is None:
        return []
    scenario = _scenario(row.token)
    if scenario == "0003":
        return []  # the bank never answers
    outcome = "failed" if scenario == "0002" else "succeeded"
    SimulatedBankPayment.objects.filter(pk=row.pk).update(state=outcome)
    reason = "insufficient funds at the bank" if outcome == "failed" else ""
    events = [(f"{row.kind}.{outcome}", reason)]
    if scenario == "0008":
        events.insert(0, (f"{row.kind}.failed", "insufficient funds at the bank"))
    if scenario == "0004":
        events.append(events[0])  # the same delivery again: same event id
    if scenario == "0005":
        events.append((f"{row.kind}.processing", ""))
    ids = [f"evt_{uuid.uuid4().hex}" for _ in events]
    if scenario == "0004":
        ids[1] = ids[0]  # a redelivery carries the same event id
    deliveries = []
    for event_id, (event_type, reason) in zip(ids, events, strict=True):
        body = json.dumps(
            {
                "id": event_id,
                "type": event_type,
                "payment_id": str(row.payment_id),
                "provider_ref": f"sim_{row.kind}_{row.payment_id}",
                "reason": reason,
            }
        ).encode()
        deliveries.append((body, {"Finstack-Signature": signing.sign(body, secret())}))
    return deliveries
