import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.money import Money
from apps.ledger import selectors, services, tasks
from apps.ledger.models import VerificationReport
from apps.ledger.tests.factories import clearing, open_wallet_account

pytestmark = pytest.mark.django_db


def test_beat_jobs_are_scheduled_by_name(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"ledger.holds_expire", "ledger.checkpoint_seal", "ledger.verify"} <= scheduled


def test_holds_expire_task_releases_expired_holds():
    wallet = open_wallet_account(funded=100)
    services.hold_create(
        debit_account_id=wallet,
        credit_account_id=clearing(),
        amount=Money(60, "EUR"),
        idempotency_key="task-h",
        expires_at=timezone.now() + timedelta(milliseconds=200),
    )
    time.sleep(0.3)
    tasks.holds_expire.delay()
    balance = selectors.account_balance(account_id=wallet)
    assert (balance.pending, balance.available) == (Money(0, "EUR"), Money(100, "EUR"))
    assert services.verify().ok


def test_verify_task_stores_a_report():
    open_wallet_account(funded=5)
    tasks.verify.delay()
    report = VerificationReport.objects.get()
    assert report.ok
    assert report.stats["transactions"] >= 1


def test_checkpoint_task_seals_whole_past_days_only():
    open_wallet_account(funded=5)
    tasks.checkpoint_seal.delay()  # today's entries: today is not over, nothing to seal
    assert services.checkpoints_seal_due() == 0


def test_a_hold_that_cannot_be_voided_does_not_keep_the_others_held():
    from apps.core.models import JobFailure
    from apps.core.testing import database_refuses_changes
    from apps.ledger.models import Hold

    good, bad = open_wallet_account(funded=100), open_wallet_account(funded=100)  # given
    holds = {
        wallet: services.hold_create(
            debit_account_id=wallet,
            credit_account_id=clearing(),
            amount=Money(60, "EUR"),
            idempotency_key=f"poison-{n}",
            expires_at=timezone.now() + timedelta(milliseconds=200),
        ).hold_id
        for n, wallet in enumerate((bad, good))
    }
    database_refuses_changes("ledger_hold", holds[bad])  # the first to expire is poison
    time.sleep(0.3)

    assert services.holds_expire() == 1  # when / then: the good one expires

    assert Hold.objects.get(pk=holds[good]).status == "expired"
    assert selectors.account_balance(account_id=good).pending == Money(0, "EUR")
    assert Hold.objects.get(pk=holds[bad]).status == "pending"  # rolled back whole
    # Reads already ignore an expired hold: the customer can spend the money meanwhile.
    assert selectors.account_balance(account_id=bad).available == Money(100, "EUR")
    failure = JobFailure.objects.get()
    assert (failure.job, failure.item) == ("ledger.holds_expire", str(holds[bad]))
    assert "cannot be changed" in failure.error
    assert services.holds_expire() == 0  # resting: not retried every minute
    assert JobFailure.objects.get().attempts == 1
    assert services.verify().ok
