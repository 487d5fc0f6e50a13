"""Deposits and withdrawals end to end through the simulated bank: success, failure,
rejection, timeouts, duplicate and out-of-order callbacks, a callback before our answer, and
a crash between steps finished by the recovery job."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.ledger import selectors as ledger_selectors
from apps.payments import services
from apps.payments.models import Payment, SimulatedBankPayment
from apps.payments.tests.factories import (
    balance,
    bank_account,
    bank_answers,
    customer,
    deposit,
    withdraw,
)

pytestmark = pytest.mark.django_db


def clearing():
    account = ledger_selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    return ledger_selectors.account_balance(account_id=account).posted.amount


def states(payment_id):
    return [e.to_state for e in Payment.objects.get(pk=payment_id).timeline.filter(kind="state")]


def test_a_deposit_credits_the_wallet_once_the_bank_confirms():
    user, wallet = customer()
    source = bank_account(user)
    payment_id = deposit(user, wallet, source)
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.step) == ("processing", "await")  # asked the bank
    assert balance(wallet) == (0, 0)  # nothing until it confirms
    [answer] = bank_answers(payment_id)
    assert answer.status_code == 200
    payment.refresh_from_db()
    assert payment.state == "succeeded"
    assert balance(wallet) == (10_000, 10_000)
    assert clearing() == 10_000  # our money at the bank (an asset) grew by what it collected
    assert states(payment_id) == ["requires_confirmation", "processing", "succeeded"]
    assert OutboxEvent.objects.filter(type="payments.payment_succeeded").count() == 1


def test_a_failed_deposit_posts_nothing():
    user, wallet = customer()
    payment_id = deposit(user, wallet, bank_account(user, "0002"))
    bank_answers(payment_id)
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.failure_code) == ("failed", "bank_failed")
    assert balance(wallet) == (0, 0)
    assert payment.ledger_transaction_id is None


def test_a_withdrawal_holds_then_posts_when_the_bank_pays():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user))
    assert balance(wallet) == (50_000, 40_000)  # held, not yet gone
    bank_answers(payment_id)
    assert Payment.objects.get(pk=payment_id).state == "succeeded"
    assert balance(wallet) == (40_000, 40_000)
    assert clearing() == -10_000  # paid out of our money at the bank


@pytest.mark.parametrize(
    ("suffix", "code"), [("0002", "bank_failed"), ("0006", "provider_rejected")]
)
def test_a_failed_or_rejected_withdrawal_releases_the_money_and_the_limit(suffix, code):
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user, suffix))
    bank_answers(payment_id)
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.failure_code) == ("failed", code)
    assert balance(wallet) == (50_000, 50_000)  # never both, never neither: neither here
    assert clearing() == 0
    # The day's limit usage came back: the full daily limit can still be withdrawn.
    again = withdraw(user, wallet, bank_account(user, "0001"), amount=50_000, key="w-2")
    assert Payment.objects.get(pk=again).state in ("processing", "in_review")


def test_duplicate_callbacks_post_once():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user, "0004"))
    first, second = bank_answers(payment_id)
    assert first.json() == {"received": True, "duplicate": False}
    assert second.json() == {"received": True, "duplicate": True}
    assert balance(wallet) == (40_000, 40_000)


def test_a_late_out_of_order_callback_changes_nothing():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user, "0005"))
    bank_answers(payment_id)  # succeeded, then a stale "processing"
    payment = Payment.objects.get(pk=payment_id)
    assert payment.state == "succeeded"
    assert not payment.needs_attention
    assert balance(wallet) == (40_000, 40_000)


def test_a_callback_before_our_request_returned(monkeypatch):
    """The bank calls back while we are still waiting for its answer to our request."""
    from apps.payments.providers.simulated import SimulatedProvider

    real_payout = SimulatedProvider.payout

    def payout_and_call_back_at_once(self, **kwargs):
        accepted = real_payout(self, **kwargs)
        bank_answers(kwargs["payment_id"])
        return accepted

    monkeypatch.setattr(SimulatedProvider, "payout", payout_and_call_back_at_once)
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user))
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.step) == ("succeeded", "done")
    assert payment.provider_ref  # recorded afterwards, without undoing the outcome
    assert balance(wallet) == (40_000, 40_000)


def test_a_crash_between_steps_is_finished_by_the_recovery_job():
    user, wallet = customer(funds=50_000)
    source = bank_account(user)
    # The request commits but its step task is lost (worker killed, broker down).
    payment_id = services.withdrawal_create(
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=source.pk,
        amount=Money(10_000, "EUR"),
        client_key="w-crash",
    )
    assert not SimulatedBankPayment.objects.exists()
    assert services.payments_recover() == {}  # not overdue yet
    Payment.objects.filter(pk=payment_id).update(due_at=timezone.now() - timedelta(seconds=1))
    assert services.payments_recover() == {"requested": 1}
    bank_answers(payment_id)
    assert Payment.objects.get(pk=payment_id).state == "succeeded"
    assert balance(wallet) == (40_000, 40_000)


def test_a_bank_that_never_answers_is_polled_then_canceled_and_the_hold_released():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user, "0003"))
    assert bank_answers(payment_id) == []  # silence
    overdue = timezone.now() - timedelta(seconds=1)
    Payment.objects.filter(pk=payment_id).update(due_at=overdue)
    assert services.payments_recover() == {"still pending": 1}
    assert balance(wallet) == (50_000, 40_000)  # still held while the bank may pay
    Payment.objects.filter(pk=payment_id).update(due_at=overdue, deadline_at=overdue)
    assert services.payments_recover() == {"timed out": 1}
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.failure_code) == ("failed", "timeout")
    assert SimulatedBankPayment.objects.get(pk=payment_id).state == "canceled"
    assert balance(wallet) == (50_000, 50_000)


def test_a_bank_that_is_down_is_retried_then_compensated_at_the_deadline():
    from apps.payments.models import FundingSource

    user, wallet = customer(funds=50_000)
    source = bank_account(user)
    FundingSource.objects.filter(pk=source.pk).update(provider_token="sim_DEXX0007")
    withdraw(user, wallet, source)  # its step fails and asks Celery for a retry (logged here)
    payment = Payment.objects.get()
    assert payment.state == "processing"
    assert payment.timeline.filter(kind="provider", cause__contains="down").exists()
    overdue = timezone.now() - timedelta(seconds=1)
    Payment.objects.filter(pk=payment.pk).update(due_at=overdue, deadline_at=overdue)
    assert services.payments_recover() == {"gave up": 1}
    payment.refresh_from_db()
    assert (payment.state, payment.failure_code) == ("failed", "provider_unavailable")
    assert balance(wallet) == (50_000, 50_000)


def test_the_bank_contradicting_a_final_state_is_flagged_not_booked():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user, "0003"))
    overdue = timezone.now() - timedelta(seconds=1)
    Payment.objects.filter(pk=payment_id).update(due_at=overdue, deadline_at=overdue)
    services.payments_recover()  # canceled at the bank, hold released
    SimulatedBankPayment.objects.filter(pk=payment_id).update(token="sim_DE0001")
    bank_answers(payment_id)  # ...and yet the bank now says it paid
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.needs_attention) == ("failed", True)
    assert balance(wallet) == (50_000, 50_000)
