"""The back office for payments: pages render, reviews are decided by compliance, a stuck
withdrawal is compensated only after a second staff member approves."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts import services as accounts_services
from apps.payments.models import ManualAction, Payment, RiskReview
from apps.payments.tests.factories import (
    balance,
    bank_account,
    bank_answers,
    customer,
    withdraw,
)

pytestmark = pytest.mark.django_db


def staff(email, role):
    return get_user_model().objects.get(
        pk=accounts_services.staff_user_create(email=email, role=role, password="pw")
    )


@pytest.fixture
def stuck():
    """A withdrawal the bank never answers (its webhook is late)."""
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user, "0003"), amount=10_000, key="w")
    return Payment.objects.get(pk=payment_id), wallet


@pytest.mark.parametrize(
    "page", ["payment", "riskreview", "webhookevent", "fundingsource", "manualaction"]
)
def test_pages_render(client, otp_login, stuck, page):
    otp_login(client, get_user_model().objects.create_superuser("root@finstack.test", "pw"))
    assert client.get(f"/admin/payments/{page}/").status_code == 200
    payment, _ = stuck
    detail = client.get(f"/admin/payments/payment/{payment.pk}/change/")
    assert detail.status_code == 200
    assert b"funds held" in detail.content  # the timeline


def test_compensation_needs_a_second_staff_member(client, otp_login, stuck):
    payment, wallet = stuck
    ana, ben = staff("ana@finstack.test", "operations"), staff("ben@finstack.test", "operations")
    otp_login(client, ana)
    changelist = "/admin/payments/payment/"
    client.post(changelist, {"action": "propose_compensation", "_selected_action": [payment.pk]})
    action = ManualAction.objects.get()
    client.post(
        "/admin/payments/manualaction/", {"action": "approve", "_selected_action": [action.pk]}
    )
    action.refresh_from_db()
    assert action.executed_at is None  # the proposer cannot approve
    assert balance(wallet) == (50_000, 40_000)

    client.logout()
    otp_login(client, ben)
    client.post(
        "/admin/payments/manualaction/", {"action": "approve", "_selected_action": [action.pk]}
    )
    action.refresh_from_db()
    assert (action.outcome, action.approved_by) == ("compensated", ben)
    payment.refresh_from_db()
    assert (payment.state, payment.failure_code) == ("failed", "manual_compensation")
    assert balance(wallet) == (50_000, 50_000)


def test_compliance_decides_reviews_and_operations_cannot(client, otp_login, settings):
    settings.PAYMENTS_RISK = {
        **settings.PAYMENTS_RISK,
        "amount": {"default": {"review": 5_000, "deny": 1_000_000, "review_per_day": 1_000_000}},
    }
    user, wallet = customer(funds=50_000)
    withdraw(user, wallet, bank_account(user), amount=10_000, key="w")
    review = RiskReview.objects.get()
    otp_login(client, staff("ops@finstack.test", "operations"))
    assert client.get("/admin/payments/riskreview/").status_code == 403
    client.logout()
    otp_login(client, staff("cleo@finstack.test", "compliance"))
    page = client.get("/admin/payments/riskreview/")
    assert b"Approve: let the payment proceed" in page.content
    with committed_context():
        client.post(
            "/admin/payments/riskreview/", {"action": "approve", "_selected_action": [review.pk]}
        )
    review.refresh_from_db()
    assert review.decision == "approved"
    bank_answers(review.payment_id)
    assert Payment.objects.get(pk=review.payment_id).state == "succeeded"


def committed_context():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_retry_now_polls_an_overdue_payment(client, otp_login, stuck):
    payment, _ = stuck
    Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now() + timedelta(hours=1))
    otp_login(client, get_user_model().objects.create_superuser("root@finstack.test", "pw"))
    client.post(
        "/admin/payments/payment/", {"action": "retry_now", "_selected_action": [payment.pk]}
    )
    assert payment.timeline.filter(cause="status polled: pending").exists()
