"""Two workers with the same attempt (a duplicate message, the sweeper and a scheduled retry
at once): one POSTs, the other sees it in flight."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.core.testing import run_threads
from apps.wallets.events import WalletStatusChanged
from apps.webhooks import services
from apps.webhooks.models import Attempt, Delivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_attempts_post_once(receiver, make_endpoint):
    receiver.script.append("fail")  # the first attempt, right after commit, fails
    make_endpoint(receiver.url)
    with transaction.atomic():
        publish(
            WalletStatusChanged(
                wallet_id="w-1", owner_id=7, from_status="active", to_status="frozen", reason=""
            )
        )
    assert receiver.wait_for(1)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    receiver.mode = "slow"  # holds the POST half a second: the other worker comes meanwhile
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(1))

    results, errors = run_threads(2, lambda n: services.delivery_attempt(delivery_id=delivery.pk))

    assert errors == []
    assert sorted(results) == ["in_flight", "succeeded"]
    assert len(receiver.received) == 2  # the failed first attempt and one more
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert list(Attempt.objects.order_by("number").values_list("number", "succeeded")) == [
        (1, False),
        (2, True),
    ]
