"""One payment or webhook the recovery job cannot process must not stop it for everyone: the
job runs every minute, and before this each run raised on the first poison record, so no
other overdue payment was ever recovered."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.accounts import services as accounts_services
from apps.core.models import JobFailure, OutboxEvent
from apps.ledger import selectors as ledger_selectors
from apps.notifications import selectors as notifications_selectors
from apps.payments import services
from apps.payments.models import Payment, WebhookEvent
from apps.payments.providers import simulated
from apps.payments.tests.factories import balance, bank_account, customer, deposit

pytestmark = pytest.mark.django_db


@pytest.fixture
def operations():
    user_id = accounts_services.staff_user_create(
        email="ops@finstack.test", role="operations", password="pw"
    )
    return get_user_model().objects.get(pk=user_id)


def clearing() -> int:
    account = ledger_selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    return ledger_selectors.account_balance(account_id=account).posted.amount


def webhook_task_lost(payment_id) -> None:
    """The bank's callbacks are stored, but their processing tasks never run (the broker was
    down at commit: on-commit work is not executed here) and they are past the step timeout."""
    for body, headers in simulated.callbacks(str(payment_id)):
        response = Client().post(
            "/api/v1/webhooks/simulated",
            data=body,
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 200
    WebhookEvent.objects.filter(payment_id=payment_id).update(
        received_at=timezone.now() - timedelta(hours=1)
    )


def provider_without_accounts(payment_id) -> None:
    """The payment names a provider configured after `bootstrap` last ran: it has no clearing
    account, so the ledger cannot book what the bank says it collected."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_payment SET provider = 'acme' WHERE id = %s", [str(payment_id)]
        )


def test_a_webhook_that_cannot_be_booked_is_flagged_and_the_others_are_recovered(
    operations, django_capture_on_commit_callbacks
):
    poor, poor_wallet = customer("poor@example.com")  # given: two deposits the bank collected
    good, good_wallet = customer("good@example.com")
    poison = deposit(poor, poor_wallet, bank_account(poor), key="d-poor")
    fine = deposit(good, good_wallet, bank_account(good), key="d-good")
    webhook_task_lost(poison)
    webhook_task_lost(fine)
    provider_without_accounts(poison)  # and one of them cannot be booked
    clearing_before = clearing()

    with django_capture_on_commit_callbacks(execute=True):
        services.payments_recover()  # when

    good_payment, bad_payment = Payment.objects.get(pk=fine), Payment.objects.get(pk=poison)
    assert good_payment.state == "succeeded"  # then: the good one is booked
    assert balance(good_wallet) == (10_000, 10_000)
    assert clearing() == clearing_before + 10_000  # only the good one's money
    assert (bad_payment.state, bad_payment.needs_attention) == ("processing", True)
    assert balance(poor_wallet) == (0, 0)  # nothing half-booked for the poison one
    assert bad_payment.timeline.filter(kind="attention", cause__contains="AccountNotFound").exists()
    assert not WebhookEvent.objects.filter(payment_id=poison, processed_at__isnull=False).exists()
    failure = JobFailure.objects.get()
    assert (failure.job, failure.attempts, failure.resolved_at) == (
        "payments.recover:webhook",
        1,
        None,
    )
    assert failure.item in {
        str(pk)
        for pk in WebhookEvent.objects.filter(payment_id=poison).values_list("pk", flat=True)
    }
    inbox = notifications_selectors.inbox(user_id=operations.pk)
    assert list(inbox.values_list("kind", flat=True)) == ["job_item_failed"]


def test_a_failing_record_is_retried_hourly_and_alerted_once(
    operations, django_capture_on_commit_callbacks
):
    poor, poor_wallet = customer("poor@example.com")  # given: a poison webhook, alerted once
    poison = deposit(poor, poor_wallet, bank_account(poor), key="d-poor")
    webhook_task_lost(poison)
    provider_without_accounts(poison)
    with django_capture_on_commit_callbacks(execute=True):
        services.payments_recover()

    with django_capture_on_commit_callbacks(execute=True):
        services.payments_recover()  # when: the next minute's run, then an hour later
    assert JobFailure.objects.get().attempts == 1  # resting: not tried again within the hour
    JobFailure.objects.update(last_failed_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        services.payments_recover()

    assert JobFailure.objects.get().attempts == 2  # then: tried again, still failing
    assert OutboxEvent.objects.filter(type="core.job_item_failed").count() == 1
    assert notifications_selectors.inbox(user_id=operations.pk).count() == 1


def test_after_the_cause_is_fixed_retry_now_in_the_admin_books_it(
    client, otp_login, operations, django_capture_on_commit_callbacks
):
    poor, poor_wallet = customer("poor@example.com")  # given: a flagged poison webhook
    poison = deposit(poor, poor_wallet, bank_account(poor), key="d-poor")
    webhook_task_lost(poison)
    provider_without_accounts(poison)
    with django_capture_on_commit_callbacks(execute=True):
        services.payments_recover()
    Payment.objects.filter(pk=poison).update(provider="simulated")  # operations fix the cause
    otp_login(client, operations)
    failure = JobFailure.objects.get()

    listed = client.get("/admin/core/jobfailure/")  # when
    retried = client.post(
        "/admin/core/jobfailure/",
        {"action": "retry_now", "_selected_action": [failure.pk]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.payments_recover()

    assert listed.status_code == 200  # then
    assert "payments.recover:webhook" in listed.content.decode()
    assert retried.status_code == 302
    failure.refresh_from_db()
    assert failure.resolved_at is not None
    assert Payment.objects.get(pk=poison).state == "succeeded"
    assert balance(poor_wallet) == (10_000, 10_000)
    assert JobFailure.objects.filter(resolved_at__isnull=True).count() == 0


def test_support_cannot_retry_a_failed_record(client, otp_login):
    user_id = accounts_services.staff_user_create(
        email="sup@finstack.test", role="support", password="pw"
    )
    otp_login(client, get_user_model().objects.get(pk=user_id))
    JobFailure.objects.create(job="payments.recover", item="x", error="boom")

    response = client.post(
        "/admin/core/jobfailure/",
        {"action": "retry_now", "_selected_action": [JobFailure.objects.get().pk]},
    )

    assert response.status_code == 403
    assert JobFailure.objects.get().resolved_at is None
