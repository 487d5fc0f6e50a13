"""Finished deliveries (payload copies and their attempts) are pruned after
WEBHOOKS_DELIVERY_RETENTION_DAYS; open ones, and originals a replay points at, stay."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from apps.core.deliveries import beat_tasks
from apps.core.events import publish
from apps.wallets.events import WalletStatusChanged
from apps.webhooks import services
from apps.webhooks.models import Attempt, Delivery
from apps.webhooks.tasks import deliveries_prune

pytestmark = pytest.mark.django_db


def sent(endpoint_id, *, mode, receiver):
    receiver.mode = mode
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.endpoint_ping(endpoint_id=endpoint_id)


def age(delivery_id, days: float) -> None:
    # auto_now: the time it last changed is set behind the model's back.
    Delivery.objects.filter(pk=delivery_id).update(updated_at=timezone.now() - timedelta(days=days))


def test_old_finished_deliveries_go_with_their_attempts(receiver, make_endpoint, settings):
    endpoint_id = make_endpoint(receiver.url).endpoint.id
    old_ok = sent(endpoint_id, mode="ok", receiver=receiver)
    old_given_up = sent(endpoint_id, mode="fail", receiver=receiver)
    recent = sent(endpoint_id, mode="ok", receiver=receiver)
    replayed = sent(endpoint_id, mode="ok", receiver=receiver)
    with TestCase.captureOnCommitCallbacks(execute=True):
        replay = services.delivery_replay(delivery_id=replayed)
    receiver.mode = "fail"
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        publish(  # its delivery fails and stays open: retried later
            WalletStatusChanged(
                wallet_id="w-1", owner_id=7, from_status="active", to_status="frozen", reason=""
            )
        )
    still_open = Delivery.objects.get(status="failed").pk
    days = settings.WEBHOOKS_DELIVERY_RETENTION_DAYS
    for delivery_id in (old_ok, old_given_up, replayed, still_open):
        age(delivery_id, days + 1)
    age(recent, days - 1)
    age(replay, days - 1)

    assert deliveries_prune.delay() is not None
    assert set(Delivery.objects.values_list("pk", flat=True)) == {
        recent,
        replayed,
        replay,
        still_open,
    }
    assert not Attempt.objects.filter(delivery_id__in=[old_ok, old_given_up]).exists()
    assert Attempt.objects.filter(delivery_id=recent).count() == 1

    age(replay, days + 1)  # the replay ages out, then the original it pointed at
    assert services.deliveries_prune() == 1
    assert services.deliveries_prune() == 1
    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent, still_open}


def test_the_prune_is_a_beat_job():
    assert "webhooks.deliveries_prune" in beat_tasks()
    assert "webhooks.requeue" in beat_tasks()
