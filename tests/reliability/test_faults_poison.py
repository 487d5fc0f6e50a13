"""Poison messages: a task that kills its worker on every delivery is parked after three
deliveries (acknowledged without running, a dead letter stored, logged CRITICAL, shown in the
admin) instead of looping for ever; a task failing for good is stored as a dead letter too.
Both on Valkey and on RabbitMQ (a quorum queue, whose own delivery limit must not come first)."""

from __future__ import annotations

import time

import pytest

from apps.core import deliveries
from apps.core.models import DeadLetter, TaskDelivery
from conftest import staff_login
from tests.reliability.faults import BROKERS, figure, lines, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.mark.parametrize("fault_server", BROKERS, indirect=True)
def test_a_task_killing_its_worker_every_time_is_parked_after_three_deliveries(
    fault_worker, fault_broker, fault_dir, fault_server, fault_queue
):
    fault_worker.start()
    started = time.monotonic()
    fault_broker.send_task("tests.poison", args=["p-1"])
    assert wait_for(DeadLetter.objects.exists, timeout=60), fault_worker.log.read_text()[-3000:]
    figure(f"{fault_server.kind}/poison", "seconds_to_park", round(time.monotonic() - started, 1))
    letter = DeadLetter.objects.get()
    assert (letter.task, letter.args, letter.kwargs) == ("tests.poison", ["p-1"], {})
    assert (letter.reason, letter.deliveries) == ("parked", 3)
    assert "died" in letter.last_error
    assert lines(fault_dir / "poison.runs") == ["p-1"] * 3  # ran three times, not a fourth
    # Its counter is cleared (the alert's own task may be counting its delivery meanwhile).
    assert not TaskDelivery.objects.filter(task="tests.poison").exists()
    assert wait_for(
        lambda: (
            "CRITICAL" in fault_worker.log.read_text()
            and "dead letter" in fault_worker.log.read_text()
        )
    )
    # The message is gone: acknowledged, not waiting in the queue nor among the unacked.
    assert wait_for(lambda: fault_server.queue_length(fault_queue) == 0)
    time.sleep(1.5)
    assert lines(fault_dir / "poison.runs") == ["p-1"] * 3
    assert deliveries.dead_letters_by_reason() == {"parked": 1}
    # The worker goes on with other work.
    fault_broker.send_task("tests.crash", args=["c-1"])
    assert wait_for(lambda: DeadLetter.objects.filter(reason="failed").exists(), timeout=30)
    failed = DeadLetter.objects.get(reason="failed")
    assert (failed.task, failed.args, failed.deliveries) == ("tests.crash", ["c-1"], 1)
    assert failed.last_error == "RuntimeError: cannot handle c-1"
    assert deliveries.dead_letters_by_reason() == {"failed": 1, "parked": 1}
    # A warm stop gives back what the worker holds unacknowledged: nothing, both were acked.
    fault_worker.stop()
    assert fault_server.queue_length(fault_queue) == 0


def test_dead_letters_are_read_only_in_the_admin(client, django_user_model):
    DeadLetter.objects.create(
        task_id="t-1", task="tests.poison", args=["p-1"], reason="parked", deliveries=3
    )
    admin = django_user_model.objects.create_superuser("root@example.com", "pw")
    staff_login(client, admin)
    listing = client.get("/admin/core/deadletter/")
    assert listing.status_code == 200
    assert b"tests.poison" in listing.content
    assert client.get("/admin/core/deadletter/add/").status_code == 403
    letter = DeadLetter.objects.get()
    page = client.get(f"/admin/core/deadletter/{letter.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert (
        client.post(f"/admin/core/deadletter/{letter.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert DeadLetter.objects.count() == 1
