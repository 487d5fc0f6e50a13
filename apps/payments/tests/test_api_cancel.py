"""POST /api/v1/payments/{id}/cancel: the owner cancels a payment that has not gone to the
bank yet (held money and limit usage come back); once sent it is 409; another customer's
payment is 404 as a missing one; asking again answers the same."""

import threading
import uuid
from unittest import mock

import pytest
from django.db import connection

from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.payments import services
from apps.payments.models import Payment, RiskReview, SimulatedBankPayment
from apps.payments.providers import ProviderError, simulated
from apps.payments.tests.factories import balance, bank_account, committed, customer

pytestmark = pytest.mark.django_db


def accepted_withdrawal(user, wallet, amount=10_000, suffix="0001"):
    """A withdrawal accepted (money held) whose REQUEST step has not run yet."""
    return services.withdrawal_create(
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=bank_account(user, suffix).pk,
        amount=Money(amount, "EUR"),
        client_key=f"w-{uuid.uuid4()}",
    )


def used_today(user) -> int:
    return kyc_selectors.limits_and_usage(user_id=user.pk)["EUR"]["used_today"]


def cancel(auth_client, user, payment_id):
    return auth_client(user).post(f"/api/v1/payments/{payment_id}/cancel")


def test_cancel_before_the_bank_releases_the_hold_and_the_limit(auth_client):
    user, wallet = customer(funds=50_000)
    payment_id = accepted_withdrawal(user, wallet)
    assert balance(wallet) == (50_000, 40_000)
    assert used_today(user) == 10_000

    response = cancel(auth_client, user, payment_id)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["cancellation_reason"]) == ("canceled", "requested_by_customer")
    assert [h["to"] for h in body["history"]][-1] == "canceled"
    assert balance(wallet) == (50_000, 50_000)
    assert used_today(user) == 0
    assert OutboxEvent.objects.filter(
        type="payments.payment_failed", payload__reason="requested_by_customer"
    ).exists()
    listed = auth_client(user).get("/api/v1/payments").json()["results"]
    assert [(p["id"], p["cancellation_reason"]) for p in listed] == [
        (str(payment_id), "requested_by_customer")
    ]
    # The step that was queued finds nothing to send.
    assert services.step_run(payment_id=payment_id) == "nothing to do"
    assert not SimulatedBankPayment.objects.exists()

    again = cancel(auth_client, user, payment_id)
    assert (again.status_code, again.json()) == (200, body)
    assert balance(wallet) == (50_000, 50_000)
    assert OutboxEvent.objects.filter(type="payments.payment_failed").count() == 1


def test_cancel_a_payment_in_review_withdraws_the_review(auth_client, settings):
    settings.PAYMENTS_RISK = {
        **settings.PAYMENTS_RISK,
        "amount": {"default": {"review": 5_000, "deny": 1_000_000, "review_per_day": 1_000_000}},
    }
    user, wallet = customer(funds=50_000)
    payment_id = accepted_withdrawal(user, wallet)
    assert Payment.objects.get(pk=payment_id).state == "in_review"

    response = cancel(auth_client, user, payment_id)

    assert response.json()["state"] == "canceled"
    assert balance(wallet) == (50_000, 50_000)
    assert RiskReview.objects.get(payment_id=payment_id).decision == "withdrawn"


def test_too_late_once_sent_to_the_bank_moves_nothing(auth_client):
    user, wallet = customer(funds=50_000)
    payment_id = committed(accepted_withdrawal, user, wallet)  # its step ran: at the bank
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.step) == ("processing", "await")
    events = OutboxEvent.objects.count()

    response = cancel(auth_client, user, payment_id)

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "payment_not_cancelable",
            "message": "The payment has already gone to the bank and can no longer be canceled.",
            "details": {"state": "processing"},
        }
    }
    payment.refresh_from_db()
    assert (payment.state, payment.cancellation_reason) == ("processing", "")
    assert balance(wallet) == (50_000, 40_000)
    assert used_today(user) == 10_000
    assert OutboxEvent.objects.count() == events


def test_a_failed_request_attempt_is_too_late_as_well(auth_client):
    user, wallet = customer(funds=50_000)
    payment_id = accepted_withdrawal(user, wallet)
    timeout = ProviderError("timeout: the request may have arrived")
    with (
        mock.patch.object(simulated.SimulatedProvider, "payout", side_effect=timeout),
        pytest.raises(services.StepRetry),
    ):
        services.step_run(payment_id=payment_id)
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.step, payment.step_attempts) == ("request", 1)
    response = cancel(auth_client, user, payment_id)
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "payment_not_cancelable",
    )
    assert balance(wallet) == (50_000, 40_000)


def test_another_customers_payment_is_not_found(auth_client):
    owner, wallet = customer(funds=50_000)
    payment_id = accepted_withdrawal(owner, wallet)
    intruder, _ = customer("ivo@example.com")

    response = cancel(auth_client, intruder, payment_id)

    missing = cancel(auth_client, intruder, uuid.uuid4())
    assert response.status_code == 404
    assert response.json() == missing.json()
    assert response.json()["error"]["code"] == "payment_not_found"
    assert Payment.objects.get(pk=payment_id).state == "processing"
    assert balance(wallet) == (50_000, 40_000)


@pytest.mark.django_db(transaction=True)
def test_a_cancel_and_a_step_run_at_once_never_both_happen():
    user, wallet = customer(funds=50_000)
    payment_id = accepted_withdrawal(user, wallet)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def run(name, fn):
        try:
            barrier.wait()
            outcomes[name] = fn()
        except Exception as exc:  # noqa: BLE001 - compared below
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run,
            args=(
                "cancel",
                lambda: services.payment_cancel(user_id=user.pk, payment_id=payment_id),
            ),
        ),
        threading.Thread(
            target=run, args=("step", lambda: services.step_run(payment_id=payment_id))
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    payment = Payment.objects.get(pk=payment_id)
    at_bank = SimulatedBankPayment.objects.filter(pk=payment_id).exists()
    if payment.state == "canceled":  # the cancel won: nothing reached the bank
        assert (outcomes["step"], at_bank) == ("nothing to do", False)
        assert balance(wallet) == (50_000, 50_000)
    else:  # the step won: the cancel was refused, the money stays held
        assert isinstance(outcomes["cancel"], services.errors.PaymentNotCancelable)
        assert (payment.state, at_bank) == ("processing", True)
        assert balance(wallet) == (50_000, 40_000)
