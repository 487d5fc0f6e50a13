"""Domain events reach a real HTTP receiver, signed; failures are retried on the schedule,
given up, and an endpoint that keeps failing is disabled and operations told."""

import logging
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from apps.accounts import services as accounts_services
from apps.core import outbox, signing
from apps.core.events import publish
from apps.ledger.events import HoldVoided
from apps.wallets.events import WalletStatusChanged
from apps.webhooks import selectors, services, tasks
from apps.webhooks.models import Attempt, Delivery, Endpoint

pytestmark = pytest.mark.django_db
HANDLER = "apps.webhooks.handlers.on_domain_event"


def frozen(wallet: str = "w-1") -> WalletStatusChanged:
    return WalletStatusChanged(
        wallet_id=wallet, owner_id=7, from_status="active", to_status="frozen", reason="fraud"
    )


def happen(event, *, after_commit: bool = True):
    """The event is published in a committed transaction; after-commit work runs."""
    with TestCase.captureOnCommitCallbacks(execute=after_commit), transaction.atomic():
        return publish(event)


def overdue(delivery_id, by: timedelta = timedelta(minutes=5)) -> None:
    """Time passes: the delivery's next attempt is due (and past the sweeper's grace)."""
    Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now() - by)


def attempt(delivery_id) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        tasks.delivery_attempt.delay(str(delivery_id))


def only_delivery():
    return Delivery.objects.get()


def test_an_event_is_posted_signed_with_its_id_and_type(receiver, make_endpoint):
    created = make_endpoint(receiver.url)
    event_id = happen(frozen())
    assert receiver.wait_for(1)
    [got] = receiver.received
    assert got.path == "/hooks/finstack"
    body = got.json()
    assert body["id"] == str(event_id)
    assert body["type"] == "wallets.wallet_status_changed"
    assert abs(body["created"] - time.time()) < 60
    assert body["data"] == {
        "wallet_id": "w-1",
        "owner_id": 7,
        "from_status": "active",
        "to_status": "frozen",
        "reason": "fraud",
    }
    delivery = only_delivery()
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"].startswith("Finstack-Webhooks/")
    assert got.headers["Finstack-Event-Id"] == str(event_id)
    assert got.headers["Finstack-Delivery-Id"] == str(delivery.pk)
    signing.verify(got.body, got.headers["Finstack-Signature"], created.secret)
    with pytest.raises(signing.BadSignature):
        signing.verify(got.body, got.headers["Finstack-Signature"], "whsec_wrong")
    with pytest.raises(signing.BadSignature):  # the body as sent, not a re-encoding of it
        signing.verify(got.body + b" ", got.headers["Finstack-Signature"], created.secret)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("succeeded", 1, None)
    [log] = Attempt.objects.filter(delivery=delivery)
    assert (log.number, log.succeeded, log.status_code) == (1, True, 200)
    assert log.response_body == '{"received": true}'


def test_during_rotation_both_secrets_sign_and_the_old_one_stops_at_expiry(receiver, make_endpoint):
    created = make_endpoint(receiver.url)
    rotated = services.endpoint_secret_rotate(endpoint_id=created.endpoint.id)
    happen(frozen("w-1"))
    assert receiver.wait_for(1)
    header = receiver.received[0].headers["Finstack-Signature"]
    assert header.count("v1=") == 2
    signing.verify(receiver.received[0].body, header, created.secret)
    signing.verify(receiver.received[0].body, header, rotated.secret)
    assert rotated.previous_expires_at - timezone.now() > timedelta(hours=23, minutes=59)

    services.endpoint_secret_rotate(
        endpoint_id=created.endpoint.id, previous_valid_for=timedelta(0)
    )
    happen(frozen("w-2"))
    assert receiver.wait_for(2)
    late = receiver.received[1]
    assert late.headers["Finstack-Signature"].count("v1=") == 1
    for old in (created.secret, rotated.secret):
        with pytest.raises(signing.BadSignature):
            signing.verify(late.body, late.headers["Finstack-Signature"], old)


def test_a_500_is_a_failure_retried_on_the_schedule(receiver, make_endpoint):
    receiver.mode = "fail"
    make_endpoint(receiver.url)
    before = timezone.now()
    happen(frozen())
    assert receiver.wait_for(1)
    delivery = only_delivery()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 500)
    # 1 minute after the first failure, plus at most 10 % jitter
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 60 <= wait <= 67
    [log] = Attempt.objects.filter(delivery=delivery)
    assert (log.succeeded, log.status_code, log.error) == (False, 500, "HTTP 500")
    assert log.response_body == "boom: the receiver broke"

    attempt(delivery.pk)  # its message arrives early (a duplicate): not due, nothing sent
    assert len(receiver.received) == 1

    receiver.mode = "ok"
    overdue(delivery.pk)
    attempt(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.json()["id"] == second.json()["id"]  # the receiver deduplicates on it
    assert second.headers["Finstack-Delivery-Id"] == first.headers["Finstack-Delivery-Id"]
    assert Endpoint.objects.get().consecutive_failures == 0


@pytest.mark.parametrize(
    ("mode", "error"),
    [("hang", "timed out after 1 s"), ("redirect", "HTTP 302")],
)
def test_timeouts_and_redirects_are_failures(receiver, make_endpoint, mode, error):
    receiver.mode = mode
    make_endpoint(receiver.url)
    happen(frozen())
    delivery = only_delivery()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, error)
    assert Attempt.objects.get().error == error
    assert Attempt.objects.get().duration_ms < 5000


def test_a_refused_connection_is_a_failure(closed_url, make_endpoint):
    make_endpoint(closed_url)
    happen(frozen())
    delivery = only_delivery()
    assert (delivery.status, delivery.last_status_code) == ("failed", None)
    assert delivery.last_error == "connection failed: Connection refused"


def test_the_schedule_doubles_from_a_minute_to_an_hour_and_spans_a_day(settings):
    delays = [services.retry_delay(n) for n in range(1, settings.WEBHOOKS_MAX_ATTEMPTS)]
    floors = [min(60 * 2 ** (n - 1), 3600) for n in range(1, settings.WEBHOOKS_MAX_ATTEMPTS)]
    assert floors[:7] == [60, 120, 240, 480, 960, 1920, 3600]
    for delay, floor in zip(delays, floors, strict=True):
        assert floor <= delay <= floor * 1.1
    assert timedelta(hours=24) <= timedelta(seconds=sum(delays)) <= timedelta(hours=27)
    assert len({round(d, 3) for d in delays[7:]}) > 1  # jittered, not all on the hour


def test_a_delivery_is_given_up_after_the_last_attempt(receiver, make_endpoint, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    receiver.mode = "fail"
    make_endpoint(receiver.url)
    happen(frozen())
    delivery = only_delivery()
    for _ in range(2):
        overdue(delivery.pk)
        attempt(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("given_up", 3, None)
    assert list(Attempt.objects.values_list("number", "succeeded")) == [
        (1, False),
        (2, False),
        (3, False),
    ]
    assert selectors.deliveries_given_up() == 1
    attempt(delivery.pk)
    assert services.deliveries_requeue() == 0
    assert len(receiver.received) == 3  # nothing after giving up


def test_an_endpoint_failing_in_a_row_is_disabled_operations_told_and_enabling_resumes(
    receiver, make_endpoint, settings, caplog
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    ops_id = accounts_services.staff_user_create(email="ops@finstack.test", role="operations")
    receiver.mode = "fail"
    endpoint_id = make_endpoint(receiver.url).endpoint.id
    happen(frozen("w-1"))
    happen(frozen("w-2"))
    first = Delivery.objects.get(payload__wallet_id="w-1")
    overdue(first.pk)
    with caplog.at_level(logging.WARNING, logger="apps.webhooks.services"):
        attempt(first.pk)  # the third failure in a row
    endpoint = Endpoint.objects.get()
    assert endpoint.status == "disabled"
    assert endpoint.disabled_reason.startswith("automatic: 3 consecutive failed attempts")
    assert any("disabled" in r.message and r.levelno == logging.WARNING for r in caplog.records)
    [alert] = [m for m in mail.outbox if "Webhook endpoint disabled" in m.subject]
    assert alert.to == ["ops@finstack.test"]
    assert receiver.url in alert.body
    assert ops_id

    # Disabled: waiting deliveries stay, new events make none, nothing is sent.
    happen(frozen("w-3"))
    overdue(first.pk)
    attempt(first.pk)
    assert services.deliveries_requeue() == 0
    assert len(receiver.received) == 3
    assert Delivery.objects.count() == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}

    receiver.mode = "ok"
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.endpoint_enable(endpoint_id=endpoint_id)
    assert receiver.wait_for(5)
    assert sorted(r.json()["data"]["wallet_id"] for r in receiver.received[3:]) == ["w-1", "w-2"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.consecutive_failures, endpoint.disabled_at) == (
        "enabled",
        0,
        None,
    )


def test_an_endpoint_failing_for_days_is_disabled(receiver, make_endpoint, settings):
    receiver.mode = "fail"
    make_endpoint(receiver.url)
    happen(frozen("w-1"))
    Endpoint.objects.update(failing_since=timezone.now() - timedelta(hours=72))  # days pass
    delivery = only_delivery()
    overdue(delivery.pk)
    attempt(delivery.pk)
    assert Endpoint.objects.get().status == "disabled"


def test_replay_sends_the_same_event_again_as_a_new_delivery(receiver, make_endpoint):
    make_endpoint(receiver.url)
    event_id = happen(frozen())
    original = only_delivery()
    with TestCase.captureOnCommitCallbacks(execute=True):
        replay_id = services.delivery_replay(delivery_id=original.pk)
    assert receiver.wait_for(2)
    first, again = receiver.received
    assert again.json() == first.json()
    assert again.json()["id"] == str(event_id)
    assert again.headers["Finstack-Delivery-Id"] == str(replay_id) != str(original.pk)
    replay = Delivery.objects.get(pk=replay_id)
    assert (replay.replay_of_id, replay.status, replay.event_id) == (
        original.pk,
        "succeeded",
        event_id,
    )


def test_replay_to_a_disabled_endpoint_is_refused_and_makes_nothing(receiver, make_endpoint):
    endpoint_id = make_endpoint(receiver.url).endpoint.id
    happen(frozen())
    original = only_delivery()
    services.endpoint_disable(endpoint_id=endpoint_id)
    with pytest.raises(services.EndpointDisabled) as refused:
        services.delivery_replay(delivery_id=original.pk)
    assert refused.value.code == "webhook_endpoint_disabled"
    assert refused.value.http_status == 409
    assert Delivery.objects.count() == 1
    assert len(receiver.received) == 1


def test_the_sweeper_sends_a_delivery_whose_message_was_lost(receiver, make_endpoint):
    make_endpoint(receiver.url)
    event_id = happen(frozen(), after_commit=False)  # committed; the broker lost the sends
    outbox.handle(event_id, HANDLER)  # the handler ran, its delivery message was lost
    delivery = only_delivery()
    assert receiver.received == []
    assert services.deliveries_requeue() == 0  # its own message still has its grace period
    overdue(delivery.pk, by=timedelta(minutes=2))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.requeue.delay() is not None
    assert receiver.wait_for(1)
    assert receiver.received[0].json()["id"] == str(event_id)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert services.deliveries_requeue() == 0


def test_the_sweeper_resends_what_a_dead_worker_left_leased(receiver, make_endpoint):
    make_endpoint(receiver.url)
    event_id = happen(frozen(), after_commit=False)
    outbox.handle(event_id, HANDLER)
    delivery = only_delivery()
    # A worker claimed it, POSTed, and died before recording: the lease is left behind.
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=1,
        leased_until=timezone.now() + timedelta(seconds=30),
        next_attempt_at=timezone.now() - timedelta(minutes=2),
    )
    attempt(delivery.pk)
    assert services.deliveries_requeue() == 0  # the lease still holds
    assert receiver.received == []
    Delivery.objects.filter(pk=delivery.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert services.deliveries_requeue() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert len(receiver.received) == 1


def test_nothing_is_delivered_when_the_events_transaction_rolls_back(receiver, make_endpoint):
    make_endpoint(receiver.url)

    class Refused(Exception):
        pass

    with (  # noqa: PT012 - the event is published, then its transaction fails
        TestCase.captureOnCommitCallbacks(execute=True),
        pytest.raises(Refused),
        transaction.atomic(),
    ):
        publish(frozen())
        raise Refused
    assert Delivery.objects.count() == 0
    time.sleep(0.2)
    assert receiver.received == []


def test_endpoints_get_only_the_events_they_subscribed_to(receiver, make_endpoint):
    holds = make_endpoint(receiver.url + "?holds", ("ledger.hold_voided",))
    every = make_endpoint(receiver.url + "?all", ("*",))
    default_all = make_endpoint(receiver.url + "?default")
    off = make_endpoint(receiver.url + "?off")
    services.endpoint_disable(endpoint_id=off.endpoint.id)
    happen(frozen())
    happen(
        HoldVoided(
            hold_id="h-1", status="expired", amount=1050, currency="EUR", metadata={"k": "v"}
        )
    )
    assert receiver.wait_for(5)
    time.sleep(0.1)
    got = sorted((r.path.split("?")[1], r.json()["type"]) for r in receiver.received)
    assert got == [
        ("all", "ledger.hold_voided"),
        ("all", "wallets.wallet_status_changed"),
        ("default", "ledger.hold_voided"),
        ("default", "wallets.wallet_status_changed"),
        ("holds", "ledger.hold_voided"),
    ]
    assert not Delivery.objects.filter(endpoint_id=off.endpoint.id).exists()
    assert Delivery.objects.filter(endpoint_id=holds.endpoint.id).count() == 1
    assert Delivery.objects.filter(endpoint_id=every.endpoint.id).count() == 2
    assert Delivery.objects.filter(endpoint_id=default_all.endpoint.id).count() == 2


def test_a_handler_run_twice_makes_one_delivery(receiver, make_endpoint):
    make_endpoint(receiver.url)
    event_id = happen(frozen(), after_commit=False)
    services.deliveries_for_event(
        event_id=event_id, event_type="wallets.wallet_status_changed", payload={"a": 1}
    )
    again = services.deliveries_for_event(
        event_id=event_id, event_type="wallets.wallet_status_changed", payload={"a": 1}
    )
    assert again == []
    assert Delivery.objects.count() == 1


def test_a_test_event_is_sent_once_and_not_retried(receiver, make_endpoint):
    created = make_endpoint(receiver.url, ("wallets.transfer_completed",))
    receiver.mode = "fail"
    with TestCase.captureOnCommitCallbacks(execute=True):
        ping_id = services.endpoint_ping(endpoint_id=created.endpoint.id)
    assert receiver.wait_for(1)
    [got] = receiver.received
    assert got.json()["type"] == "webhooks.ping"
    signing.verify(got.body, got.headers["Finstack-Signature"], created.secret)
    ping = Delivery.objects.get(pk=ping_id)
    assert (ping.status, ping.attempts) == ("given_up", 1)
