"""Resolving a payment that needs attention in the back office: the change page shows what the
bank says next to what we booked; staff propose book / return / close with a note, and only a
second staff member's approval runs it, each once."""

import json
import uuid
from unittest import mock

import pytest
from django.contrib.auth import get_user_model

from apps.accounts import services as accounts_services
from apps.core import signing
from apps.core.models import OutboxEvent
from apps.kyc import services as kyc_services
from apps.kyc.tests.factories import set_limits
from apps.ledger import selectors as ledger_selectors
from apps.payments.models import ManualAction, Payment, SimulatedBankPayment
from apps.payments.providers import ProviderError, simulated
from apps.payments.tests.factories import (
    balance,
    bank_account,
    bank_answers,
    customer,
    deposit,
    withdraw,
)

pytestmark = pytest.mark.django_db
MAX = 100_000


def staff(email):
    return get_user_model().objects.get(
        pk=accounts_services.staff_user_create(email=email, role="operations", password="pw")
    )


@pytest.fixture
def ana():
    return staff("ana@finstack.test")


@pytest.fixture
def ben():
    return staff("ben@finstack.test")


def clearing() -> int:
    account = ledger_selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    return ledger_selectors.account_balance(account_id=account).posted.amount


def bank_changes_its_mind(payment_id) -> None:
    """The bank reports success for a payment it had failed: a late, signed webhook."""
    row = SimulatedBankPayment.objects.get(pk=payment_id)
    SimulatedBankPayment.objects.filter(pk=payment_id).update(state="succeeded")
    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": f"{row.kind}.succeeded",
            "payment_id": str(payment_id),
            "provider_ref": f"sim_{row.kind}_{payment_id}",
        }
    ).encode()
    headers = {"Finstack-Signature": signing.sign(body, simulated.secret())}
    from django.test import Client, TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        Client().post(
            "/api/v1/webhooks/simulated",
            data=body,
            content_type="application/json",
            headers=headers,
        )


def given_up_then_paid(direction: str, funds: int = 50_000):
    """A payment the bank failed, then reported as succeeded: it needs attention."""
    user, wallet = customer(funds=funds)
    source = bank_account(user, "0002")
    make = deposit if direction == "deposit" else withdraw
    payment_id = make(user, wallet, source, amount=10_000, key="p")
    bank_answers(payment_id)
    assert Payment.objects.get(pk=payment_id).state == "failed"
    bank_changes_its_mind(payment_id)
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.needs_attention) == ("failed", True)
    return user, wallet, payment


def held_by_max_balance():
    """A deposit the bank collected that would take the wallet over its maximum."""
    set_limits(level=1, currency="EUR", max_balance=MAX)
    user, wallet = customer(tier=1)
    source = bank_account(user)
    first = deposit(user, wallet, source, amount=80_000, key="d-1")
    second = deposit(user, wallet, source, amount=80_000, key="d-2")
    bank_answers(first)
    bank_answers(second)
    payment = Payment.objects.get(pk=second)
    assert (payment.state, payment.needs_attention) == ("processing", True)
    return user, wallet, payment


def propose(client, payment, action, note="the bank statement shows it"):
    return client.post(
        f"/admin/payments/payment/{payment.pk}/resolve/",
        {"action": action, "note": note},
        follow=True,
    )


def approve(client, action_id):
    return client.post(
        "/admin/payments/manualaction/",
        {"action": "approve", "_selected_action": [action_id]},
        follow=True,
    )


def propose_then_approve(client, otp_login, proposer, approver, payment, action):
    otp_login(client, proposer)
    page = propose(client, payment, action)
    assert b"another staff member must approve it" in page.content
    proposal = ManualAction.objects.get(payment=payment, action=action)
    client.logout()
    otp_login(client, approver)
    return approve(client, proposal.pk), proposal


def test_the_change_page_shows_the_bank_and_our_books(client, otp_login, ana):
    user, wallet, payment = given_up_then_paid("deposit")
    otp_login(client, ana)
    page = client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    assert "Provider status: <strong>succeeded</strong>" in page
    assert page.count("collect.failed") >= 1
    assert "collect.succeeded" in page
    assert "Nothing booked." in page
    assert "the bank says it succeeded after we gave it up" in page  # the timeline
    assert "Propose resolution" in page


def test_the_change_page_survives_the_bank_being_down(client, otp_login, ana):
    _, _, payment = given_up_then_paid("deposit")
    otp_login(client, ana)
    down = mock.patch.object(
        simulated.SimulatedProvider, "status", side_effect=ProviderError("timeout")
    )
    with down:
        page = client.get(f"/admin/payments/payment/{payment.pk}/change/")
    assert page.status_code == 200
    assert b"the bank could not be reached: timeout" in page.content


def test_book_a_late_deposit_success(client, otp_login, ana, ben):
    user, wallet, payment = given_up_then_paid("deposit", funds=0)
    page, proposal = propose_then_approve(client, otp_login, ana, ben, payment, "book")
    payment.refresh_from_db()
    assert (payment.state, payment.needs_attention, payment.failure_code) == (
        "succeeded",
        False,
        "",
    )
    assert balance(wallet) == (10_000, 10_000)
    assert clearing() == 10_000
    key = f"payment:{payment.pk}:resolve:{proposal.pk}"
    assert ledger_selectors.transaction_id_by_key(idempotency_key=key) == (
        payment.ledger_transaction_id
    )
    assert OutboxEvent.objects.filter(
        type="payments.payment_succeeded", payload__payment_id=str(payment.pk)
    ).exists()
    detail = client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    assert key in detail
    assert str(payment.ledger_transaction_id) in detail

    # Approving again, or proposing another booking, moves nothing more.
    approve(client, proposal.pk)
    refused = propose(client, payment, "book")
    assert b"does not fit" in refused.content
    assert b"not_flagged" in refused.content
    assert ManualAction.objects.filter(payment=payment).count() == 1
    assert balance(wallet) == (10_000, 10_000)
    assert clearing() == 10_000


def test_the_proposer_cannot_approve_and_nothing_moves(client, otp_login, ana):
    user, wallet, payment = given_up_then_paid("deposit", funds=0)
    otp_login(client, ana)
    propose(client, payment, "book")
    proposal = ManualAction.objects.get(payment=payment)
    page = approve(client, proposal.pk)
    assert b"Someone other than the proposer must approve this." in page.content
    proposal.refresh_from_db()
    assert (proposal.executed_at, proposal.approved_by) == (None, None)
    payment.refresh_from_db()
    assert (payment.state, payment.needs_attention) == ("failed", True)
    assert balance(wallet) == (0, 0)
    assert clearing() == 0


def test_book_a_late_withdrawal_success_takes_the_money_from_the_wallet(
    client, otp_login, ana, ben
):
    user, wallet, payment = given_up_then_paid("withdrawal")
    assert balance(wallet) == (50_000, 50_000)  # the hold was released when it failed
    propose_then_approve(client, otp_login, ana, ben, payment, "book")
    payment.refresh_from_db()
    assert (payment.state, payment.needs_attention) == ("succeeded", False)
    assert balance(wallet) == (40_000, 40_000)
    assert clearing() == -10_000  # paid out of the bank account: credited to clearing


def test_book_a_withdrawal_is_refused_when_the_wallet_lacks_the_money(client, otp_login, ana, ben):
    user, wallet, payment = given_up_then_paid("withdrawal", funds=15_000)
    withdraw(user, wallet, bank_account(user, "0003"), amount=10_000, key="later")
    before = (balance(wallet), clearing())
    page, proposal = propose_then_approve(client, otp_login, ana, ben, payment, "book")
    assert b"does not have enough available funds" in page.content
    proposal.refresh_from_db()
    assert proposal.executed_at is None
    payment.refresh_from_db()
    assert (payment.state, payment.needs_attention) == ("failed", True)
    assert (balance(wallet), clearing()) == before


def test_return_a_deposit_held_back_by_the_maximum_balance(client, otp_login, ana, ben):
    user, wallet, payment = held_by_max_balance()
    propose_then_approve(client, otp_login, ana, ben, payment, "return")
    payment.refresh_from_db()
    assert (payment.state, payment.failure_code, payment.needs_attention) == (
        "failed",
        "returned_to_bank",
        False,
    )
    assert balance(wallet) == (80_000, 80_000)  # nothing booked to the wallet
    assert clearing() == 80_000  # the returned deposit never entered the ledger
    assert OutboxEvent.objects.filter(
        type="payments.payment_failed", payload__reason="returned_to_bank"
    ).exists()
    assert payment.manual_actions.get().outcome == "returned at the bank"


def test_book_a_held_deposit_once_it_fits_and_not_before(client, otp_login, ana, ben):
    user, wallet, payment = held_by_max_balance()
    page, proposal = propose_then_approve(client, otp_login, ana, ben, payment, "book")
    assert b"maximum" in page.content.lower() or b"ceiling" in page.content.lower()
    payment.refresh_from_db()
    assert (payment.state, payment.needs_attention) == ("processing", True)
    assert balance(wallet) == (80_000, 80_000)

    set_limits(level=2, currency="EUR", max_balance=1_000_000)
    kyc_services.customer_tier_set(user_id=user.pk, level=2)
    approve(client, proposal.pk)
    payment.refresh_from_db()
    assert (payment.state, payment.needs_attention) == ("succeeded", False)
    assert balance(wallet) == (160_000, 160_000)
    assert clearing() == 160_000


def test_return_is_refused_for_a_withdrawal(client, otp_login, ana):
    _, wallet, payment = given_up_then_paid("withdrawal")
    otp_login(client, ana)
    page = propose(client, payment, "return")
    assert b"Only a collected deposit can be returned." in page.content
    assert not ManualAction.objects.exists()
    assert balance(wallet) == (50_000, 50_000)


def test_close_as_resolved_moves_no_money(client, otp_login, ana, ben):
    user, wallet, payment = given_up_then_paid("deposit", funds=0)
    propose_then_approve(client, otp_login, ana, ben, payment, "close")
    payment.refresh_from_db()
    assert (payment.state, payment.needs_attention) == ("failed", False)
    assert payment.manual_actions.get().outcome == "closed as resolved"
    assert payment.timeline.filter(kind="manual", cause__startswith="close approved").exists()
    assert balance(wallet) == (0, 0)
    assert clearing() == 0


def test_a_payment_that_needs_no_attention_has_no_resolution(client, otp_login, ana):
    user, wallet = customer(funds=0)
    payment_id = deposit(user, wallet, bank_account(user), amount=1_000, key="ok")
    bank_answers(payment_id)
    otp_login(client, ana)
    page = client.get(f"/admin/payments/payment/{payment_id}/change/")
    assert b"Propose resolution" not in page.content
    refused = propose(client, Payment.objects.get(pk=payment_id), "close")
    assert b"not_flagged" in refused.content
    assert not ManualAction.objects.exists()


def test_support_cannot_propose(client, otp_login):
    _, _, payment = given_up_then_paid("deposit")
    support = get_user_model().objects.get(
        pk=accounts_services.staff_user_create(
            email="sam@finstack.test", role="support", password="pw"
        )
    )
    otp_login(client, support)
    response = client.post(
        f"/admin/payments/payment/{payment.pk}/resolve/", {"action": "close", "note": "x"}
    )
    assert response.status_code == 403
    assert not ManualAction.objects.exists()


def test_approving_a_booking_twice_posts_it_once(ana, ben):
    from apps.payments import services

    user, wallet, payment = given_up_then_paid("deposit", funds=0)
    action_id = services.resolution_propose(
        payment_id=payment.pk, staff_id=ana.pk, action="book", note="bank statement"
    )
    assert services.manual_action_approve(action_id=action_id, staff_id=ben.pk) == "booked"
    assert services.manual_action_approve(action_id=action_id, staff_id=ben.pk) == "booked"
    assert balance(wallet) == (10_000, 10_000)
    assert clearing() == 10_000
    assert OutboxEvent.objects.filter(type="payments.payment_succeeded").count() == 1
