"""Provider faults not covered by apps/payments/tests (see the report for the map): the
bank books a payout but our call times out, the same callback arrives twice at once, and a
failure callback arrives after the success it contradicts."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, TestCase
from django.utils import timezone

from apps.core import signing
from apps.ledger import services as ledger_services
from apps.payments import services
from apps.payments.models import Payment, SimulatedBankPayment, WebhookEvent
from apps.payments.providers import ProviderError, simulated
from apps.payments.providers.simulated import SimulatedProvider
from apps.payments.tests.factories import balance, bank_account, bank_answers, customer, withdraw


def deliver(body: bytes, headers: dict[str, str]):
    return Client().post(
        "/api/v1/webhooks/simulated", data=body, content_type="application/json", headers=headers
    )


@pytest.mark.django_db
def test_a_payout_booked_by_the_bank_whose_answer_times_out_is_paid_once(monkeypatch):
    real_payout, calls = SimulatedProvider.payout, []

    def booked_then_timed_out(self, **kwargs):  # the outside world: the bank's side
        calls.append(kwargs["payment_id"])
        accepted = real_payout(self, **kwargs)
        if len(calls) == 1:
            raise ProviderError("read timed out")
        return accepted

    monkeypatch.setattr(SimulatedProvider, "payout", booked_then_timed_out)
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user))  # its step asks for a retry
    assert len(calls) == 1
    assert balance(wallet) == (50_000, 40_000)  # still held
    # The retry (or the recovery job, once the step is overdue) asks the bank again.
    Payment.objects.filter(pk=payment_id).update(due_at=timezone.now() - timedelta(seconds=1))
    assert services.payments_recover() == {"requested": 1}
    assert len(calls) == 2
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.step) == ("processing", "await")
    assert payment.timeline.filter(cause__contains="read timed out").count() == 1
    bank_answers(payment_id)
    assert Payment.objects.get(pk=payment_id).state == "succeeded"
    assert SimulatedBankPayment.objects.filter(kind="payout").count() == 1
    assert balance(wallet) == (40_000, 40_000)
    assert ledger_services.verify().ok


@pytest.mark.django_db(transaction=True)
def test_the_same_callback_twice_at_once_posts_once():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user))
    [(body, headers)] = simulated.callbacks(str(payment_id))
    barrier, answers = threading.Barrier(2), []

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            answers.append(deliver(body, headers))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(a.status_code for a in answers) == [200, 200]
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True]
    assert WebhookEvent.objects.count() == 1
    assert Payment.objects.get(pk=payment_id).state == "succeeded"
    assert balance(wallet) == (40_000, 40_000)
    assert ledger_services.verify().ok


@pytest.mark.django_db
def test_a_failure_callback_after_the_success_is_flagged_and_moves_nothing():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user))
    bank_answers(payment_id)
    assert balance(wallet) == (40_000, 40_000)
    body = json.dumps(
        {
            "id": "evt_late_failure",
            "type": "payout.failed",
            "payment_id": str(payment_id),
            "provider_ref": f"sim_payout_{payment_id}",
            "reason": "returned by the beneficiary bank",
        }
    ).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        answer = deliver(body, {"Finstack-Signature": signing.sign(body, simulated.secret())})
    assert answer.status_code == 200
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.needs_attention) == ("succeeded", True)
    assert WebhookEvent.objects.get(event_id="evt_late_failure").outcome == "needs attention"
    assert balance(wallet) == (40_000, 40_000)
