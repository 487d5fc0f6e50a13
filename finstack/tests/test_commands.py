"""Operators' commands: dry runs change nothing, real runs do, re-runs are no-ops, bad
arguments fail clearly; the demo data verifies, and reconciles with only its planted break."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase
from django.utils import timezone

from apps.ledger import services as ledger_services
from apps.reports import services as reports_services

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bootstrap_is_idempotent_and_its_dry_run_writes_nothing():
    from django.contrib.auth.models import Group

    Group.objects.all().delete()
    assert "roles: compliance" in run("bootstrap", "--dry-run")
    assert not Group.objects.exists()
    first = run("bootstrap")
    assert "ledger: created 0 system account(s)" in first  # the migration made them
    assert Group.objects.count() == 3
    assert "reports.reconcile" in first
    assert run("bootstrap") == first


def test_seed_demo_twice_then_ledger_verify_and_reconcile_find_only_the_demo_break(settings):
    from apps.payments.models import Payment

    with TestCase.captureOnCommitCallbacks(execute=True):
        out = run("seed_demo", "--force")
    assert "compliance@finstack.local" in out
    assert out.count("otpauth://totp/") == 3
    with TestCase.captureOnCommitCallbacks(execute=True):
        run("seed_demo", "--force")
    users = get_user_model().objects.count()
    assert users == 5
    assert ledger_services.verify().ok
    run_ = reports_services.reconcile(day=timezone.now().date())
    # The one break is the demo's deposit the bank paid after failing it: money we hold
    # nowhere in the books, waiting for operations.
    stuck = Payment.objects.get(needs_attention=True)
    assert list(run_.breaks.values_list("kind", "reference")) == [
        ("missing_on_our_side", str(stuck.pk))
    ]
    from apps.kyc import selectors as kyc_selectors

    assert kyc_selectors.cases_waiting() == 1


def test_seed_demo_shows_a_shared_wallet_a_money_request_and_a_payment_needing_attention():
    from apps.payments.models import Payment
    from apps.wallets.models import MoneyRequest, WalletMember

    with TestCase.captureOnCommitCallbacks(execute=True):
        run("seed_demo", "--force")
    with TestCase.captureOnCommitCallbacks(execute=True):
        run("seed_demo", "--force")
    users = {u.email: u for u in get_user_model().objects.all()}
    member = WalletMember.objects.get()
    assert (member.wallet.owner, member.user) == (
        users["alice@finstack.local"],
        users["bob@finstack.local"],
    )
    assert (member.wallet.name, member.daily_limit) == ("Household", 5_000)
    request = MoneyRequest.objects.get()
    assert (request.requester, request.payer) == (
        users["bob@finstack.local"],
        users["alice@finstack.local"],
    )
    assert (request.state, request.amount) == ("pending", 1_250)
    stuck = Payment.objects.get(needs_attention=True)
    assert (stuck.user, stuck.amount, stuck.state) == (
        users["alice@finstack.local"],
        3_000,
        "failed",
    )


def test_seed_demo_refuses_without_debug():
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")


def test_outbox_replay():
    from apps.core.models import OutboxEvent

    get_user_model().objects.create_user("x@example.com", "pw")
    from apps.accounts import services as accounts_services

    accounts_services.user_create(email="y@example.com", password="pw")
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert "would re-dispatch 1 event(s)" in run(
        "outbox_replay", "--since", since, "--type", "accounts.user_created", "--dry-run"
    )
    assert "re-dispatched 1 of 1" in run(
        "outbox_replay", "--since", since, "--type", "accounts.user_created"
    )
    assert OutboxEvent.objects.get(type="accounts.user_created").dispatched_at
    with pytest.raises(CommandError, match="time zone"):
        call_command("outbox_replay", "--since", "2026-01-01T00:00:00")


def test_saga_resume_and_idempotency_cleanup():
    assert "0 payment(s)" in run("saga_resume", "--dry-run")
    assert "nothing overdue" in run("saga_resume")
    with pytest.raises(CommandError, match="No payment"):
        call_command("saga_resume", "--id", "00000000-0000-0000-0000-000000000000")
    assert "would delete 0 record(s)" in run("idempotency_cleanup", "--dry-run")
    assert "deleted 0 record(s)" in run("idempotency_cleanup")


def test_wallet_unfreeze_needs_the_same_accountability():
    with pytest.raises(CommandError):
        call_command(
            "wallet_unfreeze",
            "00000000-0000-0000-0000-000000000000",
            "--reason",
            "x",
            "--by",
            "nobody@example.com",
        )


def test_dry_runs_change_nothing():
    from apps.reports.models import AccountDay, ReconciliationRun

    with TestCase.captureOnCommitCallbacks(execute=True):
        out = run("seed_demo", "--force", "--dry-run")
    assert "rolled back" in out
    assert not get_user_model().objects.filter(email="alice@finstack.local").exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        run("seed_demo", "--force")
    today = timezone.now().date().isoformat()
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:  # the demo's planted break
        call_command("reconcile", "--date", today, "--dry-run", stdout=out)
    assert exit_.value.code == 1
    assert out.getvalue().splitlines()[-1] == f"{today}: 1 break(s)"
    assert not ReconciliationRun.objects.exists()
    AccountDay.objects.all().delete()
    assert "would rebuild" in run("reports_rebuild", "--dry-run")
    assert not AccountDay.objects.exists()
    assert "rebuilt" in run("reports_rebuild")
    assert AccountDay.objects.exists()

    from apps.wallets import selectors as wallet_selectors

    alice = get_user_model().objects.get(email="alice@finstack.local")
    wallet = wallet_selectors.wallet_list(user_id=alice.pk)[0]
    by = ("--by", "ops@finstack.local", "--reason", "test")
    assert "would set" in run("wallet_freeze", str(wallet.id), *by, "--dry-run")
    assert wallet_selectors.wallet_list(user_id=alice.pk)[0].status == "active"
    run("wallet_freeze", str(wallet.id), *by)
    assert wallet_selectors.wallet_list(user_id=alice.pk)[0].status == "frozen"
    run("wallet_unfreeze", str(wallet.id), *by)
    assert wallet_selectors.wallet_list(user_id=alice.pk)[0].status == "active"
