"""Through a real Celery worker on the real Redis broker: the event's handler, the first
attempt and a scheduled retry each travel as messages."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from apps.core import signing
from apps.core.events import publish
from apps.core.testing import wait_for
from apps.wallets.events import WalletStatusChanged
from apps.webhooks.models import Attempt, Delivery
from finstack.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def worker(redis_server):
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    app.conf.task_always_eager = True


def test_a_failed_attempt_is_retried_by_its_scheduled_message(
    worker, receiver, make_endpoint, settings
):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 1
    receiver.script.append("fail")
    created = make_endpoint(receiver.url)
    with transaction.atomic():
        event_id = publish(
            WalletStatusChanged(
                wallet_id="w-1", owner_id=7, from_status="active", to_status="frozen", reason=""
            )
        )
    assert receiver.wait_for(2, timeout=15)
    assert wait_for(lambda: Delivery.objects.filter(status="succeeded").exists())
    first, retry = receiver.received
    assert first.json()["id"] == retry.json()["id"] == str(event_id)
    assert retry.headers["Finstack-Attempt"] == "2"
    signing.verify(retry.body, retry.headers["Finstack-Signature"], created.secret)
    assert list(Attempt.objects.order_by("number").values_list("status_code", flat=True)) == [
        500,
        200,
    ]
