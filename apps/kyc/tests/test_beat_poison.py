"""The KYC beat jobs go on past one record they cannot process: it is kept for people
(`JobFailure`, operations alerted once) and rolled back whole, and the other customers'
approvals still expire and their data is still purged on time."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.core.models import JobFailure, OutboxEvent
from apps.core.testing import database_refuses_changes
from apps.kyc import selectors, services
from apps.kyc.models import Case, Document, Profile
from apps.kyc.tests.test_review import customer, submitted_tier2, trail

pytestmark = pytest.mark.django_db


def approved_tier1(email: str) -> Case:
    user = customer(email)
    case = Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=1))
    assert case.state == "approved"
    return case


def test_one_case_that_cannot_expire_does_not_keep_the_others_approved():
    poison, good = approved_tier1("p@example.com"), approved_tier1("g@example.com")  # given
    Case.objects.filter(pk__in=[poison.pk, good.pk]).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    database_refuses_changes("kyc_case", poison.pk)

    assert services.cases_expire() == 1  # when

    good.refresh_from_db()  # then
    assert good.state == "expired"
    assert selectors.tier_of(user_id=good.user_id) == 0
    poison.refresh_from_db()
    assert poison.state == "approved"  # rolled back whole: state, trail and tier
    assert trail(poison)[-1] == "approved"
    assert selectors.tier_of(user_id=poison.user_id) == 1
    failure = JobFailure.objects.get()
    assert (failure.job, failure.item, failure.attempts) == ("kyc.expire", str(poison.pk), 1)
    assert OutboxEvent.objects.filter(type="core.job_item_failed").count() == 1
    assert services.cases_expire() == 0  # resting until the retry interval has passed
    assert JobFailure.objects.get().attempts == 1


def test_one_customer_whose_files_cannot_be_deleted_does_not_stop_the_purge():
    poison, good = customer("p@example.com"), customer("g@example.com")  # given
    for user in (poison, good):
        submitted_tier2(user)
    long_ago = timezone.now() - timedelta(days=365 * 5 + 10)
    get_user_model().objects.filter(pk__in=[poison.pk, good.pk]).update(closed_at=long_ago)
    # The storage refuses to delete one of the poison customer's files: a non-empty
    # directory stands where the file was (a real OSError from the filesystem).
    stuck = Document.objects.filter(case__user=poison).order_by("pk").last()
    path = stuck.file.path
    os.remove(path)
    os.makedirs(path)
    open(os.path.join(path, "keep"), "w").close()

    try:
        purged = services.retention_purge()  # when
    finally:
        os.remove(os.path.join(path, "keep"))
        os.rmdir(path)

    assert purged == 1  # then
    assert Profile.objects.get(user=good).legal_last_name.startswith("purged-")
    assert not Document.objects.filter(case__user=good, purged_at__isnull=True).exists()
    assert Profile.objects.get(user=poison).legal_last_name == "Kovacs"  # rolled back whole
    assert Document.objects.filter(case__user=poison, purged_at__isnull=True).count() == 3
    failure = JobFailure.objects.get()
    assert (failure.job, failure.item) == ("kyc.retention", str(poison.pk))
    assert "OSError" in failure.error
    JobFailure.objects.update(last_failed_at=timezone.now() - timedelta(hours=2))
    assert services.retention_purge() == 1  # once the storage lets go, the retry purges it
    assert Profile.objects.get(user=poison).legal_last_name.startswith("purged-")
    assert JobFailure.objects.get().resolved_at is not None
