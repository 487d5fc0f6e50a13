import pytest
from django.db import connection, transaction

from apps.core import outbox
from apps.core.events import publish
from apps.core.models import OutboxEvent, ProcessedEvent
from apps.core.tests.events import SomethingHappened, seen

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        publish(SomethingHappened(label="loose"))
    assert not OutboxEvent.objects.exists()


def test_payload_must_be_json_primitives():
    with pytest.raises(TypeError), transaction.atomic():
        publish(SomethingHappened(label=("a", "tuple")))  # a tuple comes back as a list
    assert not OutboxEvent.objects.exists()


def test_committed_event_reaches_each_handler_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_id = publish(SomethingHappened(label="a"))
    assert sorted(seen) == [("first", "a"), ("second", "a")]
    row = OutboxEvent.objects.get()
    assert row.pk == event_id
    assert row.dispatched_at is not None
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 2


def test_rolled_back_change_has_no_event(django_capture_on_commit_callbacks):
    def doomed_change():
        with transaction.atomic():
            publish(SomethingHappened(label="doomed"))
            raise ZeroDivisionError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ZeroDivisionError):
        doomed_change()
    assert seen == []
    assert not OutboxEvent.objects.exists()


def test_crash_between_commit_and_dispatch_is_swept_and_delivered_once(
    django_capture_on_commit_callbacks, age_outbox
):
    with django_capture_on_commit_callbacks(execute=False) as lost, transaction.atomic():
        event_id = publish(SomethingHappened(label="crash"))
    assert len(lost) == 1  # the after-commit dispatch that the crash swallowed
    assert seen == []
    assert outbox.sweep() == 0  # a fresh row is left to its own dispatch for a grace period

    age_outbox()
    assert outbox.sweep() == 1
    assert sorted(seen) == [("first", "crash"), ("second", "crash")]
    assert outbox.sweep() == 0

    lost[0]()  # the lost dispatch arrives late after all: a duplicate delivery
    outbox.dispatch(event_id, SomethingHappened.name)
    assert sorted(seen) == [("first", "crash"), ("second", "crash")]
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 2


def test_broker_down_leaves_the_event_for_the_sweeper(
    django_capture_on_commit_callbacks, broker_down, age_outbox
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_id = publish(SomethingHappened(label="later"))
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.dispatched_at is None
    assert row.last_error
    assert seen == []
    assert outbox.sweep() == 0  # backing off, and the breaker is open in this process


def test_event_queued_while_broker_down_is_delivered_once_it_returns(
    django_capture_on_commit_callbacks, broker_down, age_outbox
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(SomethingHappened(label="queued"))
    assert seen == []
    from finstack.celery import app

    app.set_current()  # the broker is back
    outbox.delivery._broker_down_until = 0.0
    age_outbox()
    assert outbox.sweep() == 1
    assert outbox.sweep() == 0
    assert sorted(seen) == [("first", "queued"), ("second", "queued")]


def test_a_message_for_an_unknown_event_is_dropped_not_retried(caplog):
    import uuid

    from apps.core.tasks import handle_event

    handle_event.delay(str(uuid.uuid4()), "apps.core.tests.events.on_something_happened")
    assert seen == []
    assert "does not exist; message for" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_marking_inside_a_transaction_leaves_its_commit_synchronous():
    with transaction.atomic():
        event_id = publish(SomethingHappened(label="inside"))
        outbox.mark_dispatched([event_id])
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)
    assert OutboxEvent.objects.get(pk=event_id).dispatched_at is not None
