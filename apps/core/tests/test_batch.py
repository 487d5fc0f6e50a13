"""apps.core.batch: one failing record is kept for people and the job goes on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core import batch
from apps.core.models import JobFailure, OutboxEvent

pytestmark = pytest.mark.django_db


def flaky(broken: set[str]):
    def work(item: str) -> str:
        if item in broken:
            raise RuntimeError(f"{item} is broken")
        return item.upper()

    return work


def test_the_others_go_on_and_the_failure_is_kept():
    done = batch.each("demo", ["a", "b", "c"], flaky({"b"}))

    assert (done.results, done.failed) == (["A", "C"], ["b"])
    failure = JobFailure.objects.get()
    assert (failure.job, failure.item, failure.error) == ("demo", "b", "RuntimeError: b is broken")
    assert OutboxEvent.objects.filter(type="core.job_item_failed").count() == 1


def test_a_later_success_closes_the_failure_and_resting_items_wait():
    batch.each("demo", ["b"], flaky({"b"}))
    assert batch.resting("demo") == ["b"]
    JobFailure.objects.update(last_failed_at=timezone.now() - timedelta(hours=2))
    assert batch.resting("demo") == []

    batch.each("demo", ["b"], flaky(set()))  # fixed

    assert JobFailure.objects.get().resolved_at is not None
    assert batch.open_failures_by_job() == {}


def test_a_flag_that_raises_does_not_stop_the_job_either():
    def flag(item: str, error: str) -> None:
        raise LookupError("the record to flag is gone")

    done = batch.each("demo", ["a", "b"], flaky({"a"}), flag=flag)

    assert done.results == ["B"]
    assert JobFailure.objects.get().item == "a"  # kept and alerted all the same
    assert OutboxEvent.objects.filter(type="core.job_item_failed").count() == 1
