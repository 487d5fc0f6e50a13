"""Webhooks refuse bad signatures, stale timestamps and replays without effect; risk rules
allow, send to review (approved or rejected by compliance) or deny."""

import json
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.core import signing
from apps.core.money import Money
from apps.payments import services
from apps.payments.models import Payment, RiskReview, WebhookEvent
from apps.payments.providers import simulated
from apps.payments.services._common import _transition
from apps.payments.tests.factories import (
    balance,
    bank_account,
    bank_answers,
    committed,
    customer,
    deposit,
    withdraw,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_deposit():
    user, wallet = customer()
    payment_id = deposit(user, wallet, bank_account(user), amount=1_000, key="d")
    return payment_id, wallet


def post(body: bytes, signature: str):
    return Client().post(
        "/api/v1/webhooks/simulated",
        data=body,
        content_type="application/json",
        headers={"Finstack-Signature": signature},
    )


def event(payment_id, event_id="evt_1", kind="collect.succeeded") -> bytes:
    return json.dumps(
        {"id": event_id, "type": kind, "payment_id": str(payment_id), "provider_ref": "x"}
    ).encode()


@pytest.mark.parametrize(
    "forgery", ["bad_signature", "stale_timestamp", "no_header", "wrong_secret", "tampered"]
)
def test_an_unverifiable_webhook_is_refused_and_changes_nothing(pending_deposit, forgery):
    payment_id, wallet = pending_deposit
    body = event(payment_id)
    signature = {
        "bad_signature": f"t={int(time.time())},v1={'0' * 64}",
        "stale_timestamp": signing.sign(body, simulated.secret(), at=int(time.time()) - 600),
        "no_header": "",
        "wrong_secret": signing.sign(body, "not-the-secret"),
        "tampered": signing.sign(event(payment_id, kind="collect.failed"), simulated.secret()),
    }[forgery]
    response = post(body, signature)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_rejected"
    assert not WebhookEvent.objects.exists()
    assert Payment.objects.get(pk=payment_id).state == "processing"
    assert balance(wallet) == (0, 0)


def test_a_replayed_event_id_is_acknowledged_without_effect(pending_deposit):
    payment_id, wallet = pending_deposit
    body = event(payment_id)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        first = post(body, signing.sign(body, simulated.secret()))
    with TestCase.captureOnCommitCallbacks(execute=True):
        again = post(body, signing.sign(body, simulated.secret()))
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    assert WebhookEvent.objects.count() == 1
    assert balance(wallet) == (1_000, 1_000)


def test_a_webhook_secret_rotation_accepts_both_secrets_for_the_overlap(pending_deposit, settings):
    """The provider may still sign with the old secret (or send one v1 per secret, as Stripe
    does) while the new one is rolled out; once the old one is removed it is refused."""
    from django.test import TestCase

    payment_id, wallet = pending_deposit
    old = simulated.secret()
    settings.PAYMENTS_WEBHOOK_SECRETS = {"simulated": "whsec_the_new_one"}
    settings.PAYMENTS_WEBHOOK_PREVIOUS_SECRETS = {"simulated": [old]}
    body = event(payment_id, event_id="evt_old")
    both = signing.sign(body, old) + "," + signing.sign(body, "whsec_the_new_one").split(",")[1]
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert post(body, signing.sign(body, old)).status_code == 200
        assert post(body, both).json() == {"received": True, "duplicate": True}
    assert balance(wallet) == (1_000, 1_000)

    settings.PAYMENTS_WEBHOOK_PREVIOUS_SECRETS = {"simulated": []}
    late = event(payment_id, event_id="evt_late")
    refused = post(late, signing.sign(late, old))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "webhook_rejected"
    assert post(late, signing.sign(late, "whsec_the_new_one")).status_code == 200
    assert WebhookEvent.objects.count() == 2
    assert balance(wallet) == (1_000, 1_000)


def test_an_unknown_provider_is_refused():
    response = Client().post("/api/v1/webhooks/nobank", data=b"{}", content_type="application/json")
    assert response.status_code == 400


def reviewer():
    return get_user_model().objects.get_or_create(
        email="reviewer@finstack.test", defaults={"is_staff": True}
    )[0]


def test_the_customer_cannot_decide_the_review_of_their_own_payment(settings):
    settings.PAYMENTS_RISK = {
        **settings.PAYMENTS_RISK,
        "amount": {"default": {"review": 5_000, "deny": 1_000_000, "review_per_day": 1_000_000}},
    }
    user, wallet = customer(funds=50_000)
    user.is_staff = True  # even a staff member is a party to their own payment
    user.save(update_fields=["is_staff"])
    payment_id = withdraw(user, wallet, bank_account(user), amount=10_000, key="w")
    with pytest.raises(services.errors.DeciderIsParty):
        services.review_decide(payment_id=payment_id, staff_id=user.pk, approve=True)
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.review.decision) == ("in_review", "pending")
    assert balance(wallet) == (50_000, 40_000)  # still held, nothing paid out
    assert bank_answers(payment_id) == []


def test_risk_review_then_approve(settings):
    settings.PAYMENTS_RISK = {
        **settings.PAYMENTS_RISK,
        "amount": {"default": {"review": 5_000, "deny": 1_000_000, "review_per_day": 1_000_000}},
    }
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user), amount=10_000, key="w")
    payment = Payment.objects.get(pk=payment_id)
    assert payment.state == "in_review"
    assert RiskReview.objects.get(payment=payment).reasons == ["amount_over_review_threshold"]
    assert balance(wallet) == (50_000, 40_000)  # held during the review
    assert bank_answers(payment_id) == []  # the bank was not asked yet
    committed(services.review_decide, payment_id=payment_id, staff_id=reviewer().pk, approve=True)
    bank_answers(payment_id)
    assert Payment.objects.get(pk=payment_id).state == "succeeded"
    assert balance(wallet) == (40_000, 40_000)


def test_risk_review_then_reject_releases_the_money(settings):
    settings.PAYMENTS_RISK = {**settings.PAYMENTS_RISK, "max_per_hour": 1}
    user, wallet = customer(funds=50_000)
    source = bank_account(user)
    for key in ("w1", "w2"):
        withdraw(user, wallet, source, amount=1_000, key=key)
    second = Payment.objects.get(client_key="w2")
    assert (second.state, second.review.reasons) == ("in_review", ["velocity_per_hour"])
    committed(services.review_decide, payment_id=second.pk, staff_id=reviewer().pk, approve=False)
    second.refresh_from_db()
    assert (second.state, second.failure_code) == ("canceled", "not_approved")
    assert balance(wallet) == (50_000, 49_000)  # only the first one's hold remains


def test_a_new_bank_account_sends_a_withdrawal_to_review():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user, aged=False), amount=1_000, key="w")
    assert Payment.objects.get(pk=payment_id).risk["reasons"] == ["new_funding_source"]


def test_deny_writes_nothing(settings):
    settings.PAYMENTS_RISK = {
        **settings.PAYMENTS_RISK,
        "amount": {"default": {"review": 1_000, "deny": 2_000, "review_per_day": 1_000_000}},
    }
    user, wallet = customer(funds=50_000)
    with pytest.raises(services.errors.RiskDenied):
        services.withdrawal_create(
            user_id=user.pk,
            wallet_id=wallet,
            funding_source_id=bank_account(user).pk,
            amount=Money(3_000, "EUR"),
            client_key="w",
        )
    assert not Payment.objects.exists()
    assert balance(wallet) == (50_000, 50_000)


def test_illegal_transitions_are_refused():
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user), amount=1_000, key="w")
    bank_answers(payment_id)
    payment = Payment.objects.get(pk=payment_id)
    assert payment.state == "succeeded"
    for target in ("processing", "failed", "in_review"):
        with pytest.raises(services.errors.IllegalTransition):
            _transition(payment, target, "test")
    RiskReview.objects.create(payment=payment, decision="approved")
    with pytest.raises(services.errors.IllegalTransition):  # deciding what is decided
        services.review_decide(payment_id=payment_id, staff_id=reviewer().pk, approve=True)


def test_the_database_refuses_an_illegal_transition_even_in_raw_sql():
    from django.db import DatabaseError, connection, transaction

    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user), amount=1_000, key="w")
    bank_answers(payment_id)
    for sql in (
        "UPDATE payments_payment SET state = 'processing' WHERE id = %s",
        "UPDATE payments_payment SET amount = 1 WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="payment"), transaction.atomic():
            connection.cursor().execute(sql, [payment_id])
    assert Payment.objects.get(pk=payment_id).state == "succeeded"
