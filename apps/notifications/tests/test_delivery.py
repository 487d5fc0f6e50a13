"""Delivery: retries with back-off, a dead provider isolated to its channel, the attempt log,
invalid push tokens, lost tasks re-queued, codes redacted once sent, the real-provider
adapters against a faked HTTP API."""

from datetime import timedelta

import pytest
import responses
from celery.exceptions import Retry
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from apps.notifications import services
from apps.notifications.channels import PermanentFailure, Sent, TemporaryFailure
from apps.notifications.channels.basic import Memory
from apps.notifications.channels.providers import HttpSms
from apps.notifications.models import Delivery, PushDevice
from apps.notifications.tasks import deliver

pytestmark = pytest.mark.django_db


class Flaky:
    """Fails `failures` times with a temporary error, then sends."""

    failures = 2
    calls = 0

    def send(self, message):
        Flaky.calls += 1
        if Flaky.calls <= Flaky.failures:
            raise TemporaryFailure("503 from provider")
        return Sent(provider_message_id="prov-42")


class Down:
    def send(self, message):
        raise TemporaryFailure("connection refused")


class Rejecting:
    def send(self, message):
        raise PermanentFailure("invalid number")


class Unregistered:
    def send(self, message):
        return Sent(provider_message_id="x", invalid_tokens=message.to)


@pytest.fixture
def ann():
    user = get_user_model().objects.create_user("ann@example.com", "pw")
    get_user_model().objects.filter(pk=user.pk).update(phone="+4915112345678", phone_verified=True)
    return user


def drive(delivery_id) -> list[int]:
    """Run the delivery task as a worker would: again after each retry it asks for (Celery's
    eager mode only raises Retry). Returns the countdowns it asked for."""
    countdowns = []
    while True:
        try:
            deliver.apply((str(delivery_id),), retries=len(countdowns)).get()
        except Retry as retry:
            countdowns.append(retry.when)
        else:
            return countdowns


def alert(user, event_id="0b8a2f9e-0000-4000-8000-000000000001") -> dict[str, list[int]]:
    """A large-transaction alert (e-mail, SMS, push), each channel delivered to the end."""
    with TestCase.captureOnCommitCallbacks(execute=False):
        ids = services.notify(
            user_id=user.pk,
            kind="large_transaction",
            context={"amount": "900.00 EUR", "recipient": "Bob"},
            event_id=event_id,
        )
    return {Delivery.objects.get(pk=i).channel: drive(i) for i in ids}


def use(settings, channel, backend):
    settings.NOTIFICATIONS_BACKENDS = {**settings.NOTIFICATIONS_BACKENDS, channel: backend}


def test_a_temporary_failure_is_retried_until_sent_and_every_attempt_is_logged(settings, ann):
    use(settings, "sms", "apps.notifications.tests.test_delivery.Flaky")
    Flaky.calls, Flaky.failures = 0, 2
    alert(ann)
    sms = Delivery.objects.get(user=ann, channel="sms")
    assert (sms.status, sms.attempts, sms.provider_message_id) == ("sent", 3, "prov-42")
    assert list(sms.log.order_by("number").values_list("number", "status", "error")) == [
        (1, "retrying", "503 from provider"),
        (2, "retrying", "503 from provider"),
        (3, "sent", ""),
    ]


def test_retries_back_off_exponentially_then_give_up(settings, ann):
    use(settings, "sms", "apps.notifications.tests.test_delivery.Down")
    settings.NOTIFICATIONS_MAX_RETRIES = 4
    assert alert(ann)["sms"] == [5, 10, 20, 40]
    sms = Delivery.objects.get(user=ann, channel="sms")
    assert sms.status == "failed"
    assert sms.last_error.startswith("retries exhausted: connection refused")


def test_a_dead_sms_provider_does_not_stop_the_email(settings, ann):
    use(settings, "sms", "apps.notifications.tests.test_delivery.Down")
    settings.NOTIFICATIONS_MAX_RETRIES = 1
    alert(ann)
    channels = dict(Delivery.objects.filter(user=ann).values_list("channel", "status"))
    assert channels == {"email": "sent", "sms": "failed"}
    assert [m.subject for m in mail.outbox] == ["Large transfer: 900.00 EUR"]


def test_a_permanent_failure_is_not_retried(settings, ann):
    use(settings, "sms", "apps.notifications.tests.test_delivery.Rejecting")
    alert(ann)
    sms = Delivery.objects.get(user=ann, channel="sms")
    assert (sms.status, sms.attempts, sms.last_error) == ("failed", 1, "invalid number")


def test_tokens_the_provider_calls_unregistered_are_deactivated(settings, ann):
    use(settings, "push", "apps.notifications.tests.test_delivery.Unregistered")
    services.device_register(user_id=ann.pk, platform="android", token="stale-token")
    alert(ann)
    assert PushDevice.objects.get(token="stale-token").active is False
    # With no active device left, the next push has nobody to go to.
    alert(ann, event_id="0b8a2f9e-0000-4000-8000-000000000002")
    assert not Delivery.objects.filter(
        user=ann, channel="push", event_id="0b8a2f9e-0000-4000-8000-000000000002"
    ).exists()


def test_a_delivery_whose_task_was_lost_is_requeued(ann):
    with TestCase.captureOnCommitCallbacks(execute=False):  # the broker was down at commit
        services.notify(user_id=ann.pk, kind="password_changed", context={"how": "reset"})
    delivery = Delivery.objects.get(user=ann, channel="email")
    Delivery.objects.filter(pk=delivery.pk).update(
        created_at=delivery.created_at.replace(year=2020)
    )
    assert delivery.status == "queued"
    assert services.deliveries_requeue() == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert services.deliveries_requeue() == 0


def test_a_code_mail_is_redacted_once_sent():
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.account_mail(
            template="account/email/email_confirmation_signup",
            email="new@example.com",
            context={"code": "482913"},
            fallback=("unused", "unused", ""),
        )
    assert mail.outbox[-1].subject == "Your Finstack code: 482913"
    delivery = Delivery.objects.get(address="new@example.com")
    assert delivery.status == "sent"
    assert "482913" not in delivery.subject + delivery.body + delivery.html


def test_an_unknown_account_mail_uses_allauths_own_text():
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.account_mail(
            template="account/email/unknown_account",
            email="who@example.com",
            context={},
            fallback=("Unknown account", "You have no account.", ""),
        )
    assert (mail.outbox[-1].subject, mail.outbox[-1].body) == (
        "Unknown account",
        "You have no account.",
    )


@responses.activate
def test_the_http_sms_provider(settings):
    settings.SMS_API_URL = "https://sms.example.com/v1/messages"
    settings.SMS_API_TOKEN = "t0ken"  # noqa: S105
    from apps.notifications.channels import Message

    message = Message(to=("+4915112345678",), subject="", body="hi", key="d-1")
    responses.post(settings.SMS_API_URL, json={"id": "sms-1"}, status=201)
    assert HttpSms().send(message).provider_message_id == "sms-1"
    call = responses.calls[0].request
    assert call.headers["Authorization"] == "Bearer t0ken"
    assert call.headers["Idempotency-Key"] == "d-1"
    responses.post(settings.SMS_API_URL, status=503)
    with pytest.raises(TemporaryFailure):
        HttpSms().send(message)
    responses.post(settings.SMS_API_URL, status=400, json={"error": "bad number"})
    with pytest.raises(PermanentFailure):
        HttpSms().send(message)


def test_memory_backend_keeps_what_it_sent(ann):
    alert(ann)
    assert [m.to for m in Memory.outbox] == [("+4915112345678",)]


def test_a_phone_code_goes_by_sms_in_the_users_language_and_is_redacted(ann):
    get_user_model().objects.filter(pk=ann.pk).update(language="de")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.account_sms(phone="+4915199990000", code="731904", user_id=ann.pk)
    assert Memory.outbox[-1].to == ("+4915199990000",)
    assert Memory.outbox[-1].body.startswith("Ihr Finstack-Code lautet 731904.")
    delivery = Delivery.objects.get(kind="phone_code")
    assert delivery.status == "sent"
    assert "731904" not in delivery.body


def test_one_delivery_that_cannot_be_sent_does_not_stop_the_requeue(ann):
    from apps.core.models import JobFailure
    from apps.core.testing import database_refuses_changes

    bob = get_user_model().objects.create_user("bob@example.com", "pw")  # given: two lost
    with TestCase.captureOnCommitCallbacks(execute=False):
        for user in (ann, bob):
            services.notify(user_id=user.pk, kind="password_changed", context={"how": "reset"})
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=1))
    poison = Delivery.objects.get(user=ann, channel="email")
    database_refuses_changes("notifications_delivery", poison.pk)  # the database refuses one

    assert services.deliveries_requeue() == 1  # when / then: bob's is sent

    assert Delivery.objects.get(user=bob, channel="email").status == "sent"
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    poison.refresh_from_db()
    assert (poison.status, poison.attempts) == ("queued", 0)
    failure = JobFailure.objects.get()
    assert (failure.job, failure.item) == ("notifications.requeue", str(poison.pk))
    assert services.deliveries_requeue() == 0  # resting: not retried every minute
