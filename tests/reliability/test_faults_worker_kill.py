"""A real Celery worker running a withdrawal saga is SIGKILLed at three points: after the
hold (the step task starts), during the provider call (the bank has booked the payout, our
process dies before it hears the answer) and before settling (the bank's callback is being
processed). Either only the pool child dies (task_reject_on_worker_lost re-queues at once) or
the whole worker: on Valkey the message comes back after the visibility timeout (10 s for the
test worker), on RabbitMQ (a quorum queue) as soon as the dead worker's connection closes.
After a restart, with the recovery job running as beat would, the saga finishes within 30 s
on either broker: money held until then only, paid out once, the ledger clean."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command

from apps.core.models import DeadLetter, OutboxEvent, TaskDelivery
from apps.core.money import Money
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.payments import services
from apps.payments.models import TERMINAL, Payment, SimulatedBankPayment
from apps.payments.tests.factories import balance, bank_account, bank_answers, customer
from tests.reliability.faults import BROKERS, arm, figure, fired, lines, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

POINTS = {
    "after_hold": "task:payments.run_step",
    "provider_call": "provider.payout",
    "before_settle": "task:payments.process_webhook",
}


def clearing() -> int:
    account = ledger_selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    return ledger_selectors.account_balance(account_id=account).posted.amount


@pytest.mark.parametrize("kill", ["pool_child", "whole_worker"])
@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("fault_server", BROKERS, indirect=True)
def test_a_saga_killed_mid_way_finishes_once(point, kill, fault_worker, fault_dir, fault_server):
    user, wallet = customer(funds=50_000)
    source = bank_account(user)
    arm(fault_dir, POINTS[point], "kill" if kill == "pool_child" else "hang")
    fault_worker.start()
    payment_id = services.withdrawal_create(  # committed; its step task is on the broker
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=source.pk,
        amount=Money(10_000, "EUR"),
        client_key=f"w-{point}-{kill}",
    )
    assert balance(wallet) == (50_000, 40_000)  # held
    answered = False
    if point == "before_settle":  # the step ran; the bank pays and calls us back
        assert wait_for(lambda: Payment.objects.get(pk=payment_id).step == "await")
        bank_answers(payment_id)
        answered = True
    assert wait_for(lambda: fired(fault_dir, POINTS[point])), fault_worker.log.read_text()[-3000:]
    stopped_at = time.monotonic()
    if kill == "whole_worker":
        fault_worker.kill()
        assert Payment.objects.get(pk=payment_id).state == "processing"
        assert balance(wallet) == (50_000, 40_000)  # still held while the saga is unfinished
        fault_worker.start()

    def finished() -> bool:  # the beat job, every half second; the bank answers once asked
        nonlocal answered
        payment = Payment.objects.get(pk=payment_id)
        if payment.state in TERMINAL:
            return True
        if payment.step == "await" and not answered:
            bank_answers(payment_id)
            answered = True
        services.payments_recover()
        return False

    assert wait_for(finished, timeout=30, step=0.5), fault_worker.log.read_text()[-3000:]
    case = f"{fault_server.kind}/{point}/{kill}"
    figure(case, "seconds_to_recovery", round(time.monotonic() - stopped_at, 1))
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.failure_code) == ("succeeded", "")
    assert balance(wallet) == (40_000, 40_000)  # the hold became the payout: nothing held
    assert ledger_selectors.account_balance(account_id=payment.wallet_account_id).pending == Money(
        0, "EUR"
    )
    [booked] = SimulatedBankPayment.objects.filter(kind="payout")  # paid out once
    assert (booked.payment_id, booked.amount, booked.state) == (payment.pk, 10_000, "succeeded")
    figure(case, "payout_calls", len(lines(fault_dir / "payout.calls")))
    assert clearing() == -10_000
    assert OutboxEvent.objects.filter(type="payments.payment_succeeded").count() == 1
    assert ledger_services.verify().ok
    out = StringIO()
    call_command("ledger_verify", "--no-store", stdout=out)
    assert "clean" in out.getvalue()
    assert not DeadLetter.objects.exists()
    assert wait_for(lambda: not TaskDelivery.objects.filter(task__startswith="payments").exists())
