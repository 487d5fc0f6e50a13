"""Finished deliveries (the copies of e-mails, SMS and pushes sent, and their attempt logs) are
pruned after NOTIFICATIONS_DELIVERY_RETENTION_DAYS; the in-app inbox never is."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.core.deliveries import beat_tasks
from apps.notifications import services
from apps.notifications.models import Delivery, DeliveryAttempt, Notification
from apps.notifications.tasks import deliveries_prune as deliveries_prune_task
from finstack.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user("retention@example.com", "a long enough password")


def _delivery(user, status: str, days_ago: float) -> Delivery:
    delivery = Delivery.objects.create(
        user=user,
        kind="transfer_received",
        channel="email",
        address="a@example.com",
        subject="s",
        body="b",
        status=status,
    )
    DeliveryAttempt.objects.create(delivery=delivery, number=1, status=status)
    # auto_now: the time it last changed is set behind the model's back.
    Delivery.objects.filter(pk=delivery.pk).update(
        updated_at=timezone.now() - timedelta(days=days_ago)
    )
    return delivery


def test_finished_deliveries_past_retention_go_with_their_attempts(settings, user):
    settings.NOTIFICATIONS_DELIVERY_RETENTION_DAYS = 90
    sent, failed = _delivery(user, "sent", 100), _delivery(user, "failed", 100)
    recent = _delivery(user, "sent", 10)
    # Not finished, however old: the requeue sweeper still owns them.
    waiting = [_delivery(user, s, 100) for s in ("queued", "sending", "retrying")]
    inbox = Notification.objects.create(
        user=user, kind="transfer_received", category="money", title="t", body="b"
    )
    Notification.objects.filter(pk=inbox.pk).update(created_at=timezone.now() - timedelta(days=900))

    assert services.deliveries_prune() == 2

    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent.pk} | {
        d.pk for d in waiting
    }
    assert not DeliveryAttempt.objects.filter(delivery_id__in=[sent.pk, failed.pk]).exists()
    assert DeliveryAttempt.objects.count() == 4
    assert Notification.objects.filter(pk=inbox.pk).exists()  # the inbox is the customer's


def test_a_run_deletes_at_most_its_batches_and_the_next_run_continues(user):
    for _ in range(5):
        _delivery(user, "sent", 100)

    assert services.deliveries_prune(batch=2, batches=1) == 2
    assert Delivery.objects.count() == 3
    assert services.deliveries_prune(batch=2, batches=5) == 3
    assert not Delivery.objects.exists()
    assert not DeliveryAttempt.objects.exists()


def test_the_prune_task_runs_and_is_on_the_beat(settings, user):
    _delivery(user, "sent", 100)
    deliveries_prune_task.delay()
    assert not Delivery.objects.exists()
    entry = settings.CELERY_BEAT_SCHEDULE["notifications.deliveries_prune"]
    assert entry["task"] == "notifications.deliveries_prune" in celery_app.tasks
    assert "notifications.deliveries_prune" in beat_tasks()
