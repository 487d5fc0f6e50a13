"""Operations hear about a task that will not run again by itself (a poison message parked,
a task failed for good), by e-mail and in-app, from the outbox event core publishes."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from apps.accounts import services as accounts_services
from apps.core import deliveries
from apps.core.models import DeadLetter, OutboxEvent
from apps.notifications import selectors as notifications_selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def operations():
    return get_user_model().objects.get(
        pk=accounts_services.staff_user_create(
            email="ops@finstack.test", role="operations", password="pw"
        )
    )


def park(task: str, args: list) -> None:
    deliveries.dead_letter_store(
        task_id="t-1",
        task=task,
        args=args,
        kwargs={},
        reason=deliveries.PARKED,
        deliveries=3,
        last_error="the worker died while running it on every delivery",
    )


def test_a_parked_task_alerts_operations(operations, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        park("payments.step", ["a-payment-id"])

    inbox = notifications_selectors.inbox(user_id=operations.pk)
    assert list(inbox.values_list("kind", flat=True)) == ["task_dead_lettered"]
    (message,) = [m for m in mail.outbox if "ops@finstack.test" in m.to]
    assert "payments.step" in message.subject
    assert "parked after 3 deliveries" in message.subject
    assert DeadLetter.objects.get().task == "payments.step"


def test_the_alert_failing_for_good_is_not_alerted_again(
    operations, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        park("core.handle_event", ["an-event", "apps.notifications.handlers.on_task_dead_lettered"])

    assert DeadLetter.objects.count() == 1  # kept for people, and logged
    assert not OutboxEvent.objects.filter(type="core.task_dead_lettered").exists()
    assert not notifications_selectors.inbox(user_id=operations.pk).exists()


def test_a_record_a_beat_job_failed_on_alerts_operations_once(
    operations, django_capture_on_commit_callbacks
):
    from apps.core import batch

    def work(item):
        raise ValueError(f"{item} cannot be booked")

    with django_capture_on_commit_callbacks(execute=True):
        batch.each("payments.recover", ["p-1"], work)
        batch.each("payments.recover", ["p-1"], work)  # the next run fails it again

    inbox = notifications_selectors.inbox(user_id=operations.pk)
    assert list(inbox.values_list("kind", flat=True)) == ["job_item_failed"]
    (message,) = [m for m in mail.outbox if "ops@finstack.test" in m.to]
    assert message.subject.endswith("payments.recover could not process p-1")
    assert "ValueError: p-1 cannot be booked" in message.body
