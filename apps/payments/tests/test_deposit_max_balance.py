"""A tier's maximum balance holds where a deposit's money lands: at settlement, under the
ledger's lock on the wallet. Pending deposits each pass the check at request time; one that
would overfill the wallet when the bank pays is not booked to it and not lost: it stays in
bank clearing, the payment needs attention (max_balance_exceeded), and it is booked once the
customer's tier allows it."""

import threading

import pytest
from django.db import connection

from apps.core.models import OutboxEvent
from apps.kyc import services as kyc_services
from apps.kyc.tests.factories import set_limits
from apps.ledger import selectors as ledger_selectors
from apps.payments import services
from apps.payments.models import Payment
from apps.payments.providers import simulated
from apps.payments.tests.factories import (
    balance,
    bank_account,
    bank_answers,
    customer,
    deposit,
)

MAX = 100_000  # 1,000.00 EUR


def booked(*payment_ids):
    return [
        ledger_selectors.transaction_id_by_key(idempotency_key=f"payment:{pid}:settle") is not None
        for pid in payment_ids
    ]


def clearing():
    account = ledger_selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    return ledger_selectors.account_balance(account_id=account).posted.amount


def tier_max(level: int, amount: int) -> None:
    set_limits(level=level, currency="EUR", max_balance=amount)


def two_pending_deposits_of_800():
    tier_max(1, MAX)
    user, wallet = customer(tier=1)
    source = bank_account(user)
    first = deposit(user, wallet, source, amount=80_000, key="d-1")
    second = deposit(user, wallet, source, amount=80_000, key="d-2")
    return user, wallet, first, second


@pytest.mark.django_db
def test_a_deposit_that_would_overfill_the_wallet_stays_in_clearing_and_needs_attention():
    user, wallet, first, second = two_pending_deposits_of_800()  # given: both accepted
    assert Payment.objects.get(pk=second).state == "processing"
    bank_answers(first)  # when: the bank pays both
    bank_answers(second)
    assert Payment.objects.get(pk=first).state == "succeeded"  # then
    assert balance(wallet) == (80_000, 80_000)  # never above the tier's maximum
    payment = Payment.objects.get(pk=second)
    assert (payment.state, payment.needs_attention) == ("processing", True)
    assert payment.ledger_transaction_id is None
    assert payment.timeline.filter(
        kind="attention", cause__startswith="max_balance_exceeded"
    ).exists()
    # Every collected cent accounted for: clearing holds what was booked; the rest is the
    # flagged payment's amount, collected at the bank and not yet booked.
    assert clearing() == 80_000
    assert booked(first, second) == [True, False]
    rows = ledger_selectors.trial_balance(currency="EUR")
    assert sum(r.debits for r in rows) == sum(r.credits for r in rows)
    [review_event] = OutboxEvent.objects.filter(type="payments.payment_in_review")
    assert review_event.payload["reasons"] == ["max_balance_exceeded"]
    assert review_event.payload["payment_id"] == str(second)


@pytest.mark.django_db
def test_a_repeated_poll_while_over_the_maximum_books_nothing_and_notifies_once():
    user, wallet, first, second = two_pending_deposits_of_800()
    bank_answers(first)
    bank_answers(second)
    assert services.payment_recover(payment_id=second, force=True) == "needs attention"
    assert balance(wallet) == (80_000, 80_000)
    assert clearing() == 80_000
    assert OutboxEvent.objects.filter(type="payments.payment_in_review").count() == 1


@pytest.mark.django_db
def test_the_held_deposit_is_booked_once_the_tier_allows_it():
    user, wallet, first, second = two_pending_deposits_of_800()
    bank_answers(first)
    bank_answers(second)
    tier_max(2, 1_000_000)  # given: staff upgrade the customer
    kyc_services.customer_tier_set(user_id=user.pk, level=2)
    services.step_retry_now(payment_id=second)  # when: staff "retry now" in the admin
    payment = Payment.objects.get(pk=second)  # then
    assert payment.state == "succeeded"
    assert balance(wallet) == (160_000, 160_000)
    assert clearing() == 160_000
    assert booked(first, second) == [True, True]


@pytest.mark.django_db(transaction=True)
def test_two_deposits_settling_at_once_land_at_most_one():
    user, wallet, first, second = two_pending_deposits_of_800()
    callbacks = {pid: list(simulated.callbacks(str(pid))) for pid in (first, second)}
    barrier = threading.Barrier(2)
    errors = []

    def settle(payment_id):
        from django.test import Client

        try:
            barrier.wait()
            for body, headers in callbacks[payment_id]:
                Client().post(
                    "/api/v1/webhooks/simulated",
                    data=body,
                    content_type="application/json",
                    headers=headers,
                )
            from apps.payments.models import WebhookEvent

            for webhook_id in WebhookEvent.objects.filter(payment_id=payment_id).values_list(
                "pk", flat=True
            ):
                services.webhook_process(webhook_id=webhook_id)
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=settle, args=(pid,)) for pid in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert balance(wallet) == (80_000, 80_000)
    states = sorted(Payment.objects.filter(pk__in=[first, second]).values_list("state", flat=True))
    assert states == ["processing", "succeeded"]
    assert Payment.objects.filter(pk__in=[first, second], needs_attention=True).count() == 1
    assert clearing() == 80_000
