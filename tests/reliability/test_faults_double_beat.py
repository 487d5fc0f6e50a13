"""Two beats (or a slow run and the next tick) start a periodic job twice at once: its effect
must happen once. Each job's entry point runs from two threads on two real connections,
released together by a barrier."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.db import connection, transaction
from django.utils import timezone

from apps.core import outbox
from apps.core.events import publish
from apps.core.models import OutboxEvent, ProcessedEvent
from apps.core.money import Money
from apps.core.tests import events as core_events
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.ledger.models import Checkpoint, Hold
from apps.payments import tasks as payment_tasks
from apps.payments.models import Payment, PaymentEvent, SimulatedBankPayment
from apps.payments.tests.factories import bank_account, customer, withdraw
from apps.wallets import selectors as wallet_selectors
from tests.reliability import faults

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def twice_at_once(job, *args, **kwargs) -> list:
    """Run `job` in two threads released together; their results (or exceptions)."""
    barrier, results = threading.Barrier(2), [None, None]
    app = current_app._get_current_object()  # Celery's current app is per thread

    def run(slot: int) -> None:
        app.set_current()
        try:
            barrier.wait(timeout=10)
            results[slot] = job(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported to the test as a result
            results[slot] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_outbox_sweeps_send_each_event_once_and_each_handler_runs_once(
    fault_broker, fault_valkey, fault_queue
):
    core_events.seen.clear()
    outbox.delivery._broker_down_until = float("inf")  # a crash between commit and dispatch
    for label in ("a", "b", "c"):
        with transaction.atomic():
            publish(core_events.SomethingHappened(label=label))
    outbox.delivery._broker_down_until = 0.0
    OutboxEvent.objects.update(
        created_at=timezone.now() - timedelta(minutes=1),
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )
    assert sum(twice_at_once(outbox.sweep)) == 3  # split between them or not, each once
    assert fault_valkey.client().llen(fault_queue) == 6  # 3 events x 2 handlers, not 12
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    # Each (event, handler) delivered twice at once still has one effect.
    for event_id in OutboxEvent.objects.values_list("pk", flat=True):
        for handler in outbox.handlers_for(core_events.SomethingHappened.name):
            assert sorted(twice_at_once(outbox.handle, event_id, handler)) == [False, True]
    assert sorted(core_events.seen) == sorted(
        (which, label) for which in ("first", "second") for label in ("a", "b", "c")
    )
    assert ProcessedEvent.objects.count() == 6
    core_events.seen.clear()


def test_two_hold_expiry_runs_void_each_expired_hold_once():
    user, wallet = customer(funds=50_000)
    account = wallet_selectors.ledger_account_of(wallet_id=wallet)
    clearing = ledger_selectors.system_account_id(
        purpose="bank_clearing", currency="EUR", provider="simulated"
    )
    for n in range(4):
        ledger_services.hold_create(
            debit_account_id=account,
            credit_account_id=clearing,
            amount=Money(1_000, "EUR"),
            idempotency_key=f"beat-hold-{n}",
            expires_at=timezone.now() + timedelta(seconds=1),
        )
    time.sleep(1.2)
    assert sum(twice_at_once(ledger_services.holds_expire)) == 4
    assert set(Hold.objects.values_list("status", flat=True)) == {"expired"}
    assert ledger_selectors.account_balance(account_id=account).available == Money(50_000, "EUR")
    assert ledger_services.verify().ok


def test_two_recovery_runs_ask_the_bank_once(fault_broker):
    user, wallet = customer(funds=50_000)
    payment_id = withdraw(user, wallet, bank_account(user), key="beat-recover")
    # Its step task was lost: overdue, still to be requested.
    Payment.objects.filter(pk=payment_id).update(due_at=timezone.now() - timedelta(seconds=1))
    assert not SimulatedBankPayment.objects.exists()
    twice_at_once(payment_tasks.recover.apply)
    accepted = PaymentEvent.objects.filter(payment_id=payment_id, cause="request accepted")
    assert accepted.count() == 1  # one provider call, not one per beat
    assert Payment.objects.get(pk=payment_id).step == "await"


def test_two_checkpoint_seals_of_one_day_make_one_checkpoint_and_no_error():
    day = timezone.now().date() - timedelta(days=1)
    results: list = []

    def seal() -> None:
        try:
            results.append(ledger_services.checkpoint_seal(day=day))
        except Exception as exc:  # noqa: BLE001 - reported to the test as a result
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=seal) for _ in range(2)]
    # Both sealers get past their first look and queue on the sealing lock, held here: the
    # interleaving of two beats starting together, made certain.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('ledger.checkpoint'))")
        cursor.execute("SELECT pg_backend_pid()")
        (me,) = cursor.fetchone()
        for thread in threads:
            thread.start()

        def both_waiting() -> bool:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                [me],
            )
            return cursor.fetchone()[0] == 2

        assert faults.wait_for(both_waiting, timeout=30)
    for thread in threads:
        thread.join(timeout=30)
    assert Checkpoint.objects.filter(day=day).count() == 1
    assert not [r for r in results if isinstance(r, Exception)], results


def test_a_reconciliation_beat_while_one_runs_skips_and_stores_nothing():
    from apps.core import deliveries
    from apps.reports import tasks as reports_tasks
    from apps.reports.models import ReconciliationRun

    running, done = threading.Event(), threading.Event()

    def first_run_holding_the_job() -> None:  # another beat's run, still going
        with deliveries.singleton("reports.reconcile") as held:
            assert held
            running.set()
            done.wait(timeout=30)
        connection.close()

    other = threading.Thread(target=first_run_holding_the_job)
    other.start()
    assert running.wait(timeout=10)
    reports_tasks.reconcile.apply()  # the second beat's run meanwhile
    assert not ReconciliationRun.objects.exists()
    done.set()
    other.join(timeout=30)
    reports_tasks.reconcile.apply()  # the next tick, alone: does the work
    assert ReconciliationRun.objects.count() == 1


def test_two_notification_requeues_send_a_lost_delivery_once(fault_broker):
    from django.contrib.auth import get_user_model
    from django.core import mail

    from apps.notifications import services as notifications_services
    from apps.notifications.models import Delivery
    from finstack.celery import app as celery_app

    user = get_user_model().objects.create_user("rex@example.com", "pw")
    with transaction.atomic():  # its task goes to a broker no worker reads: lost
        notifications_services.notify(
            user_id=user.pk, kind="password_changed", context={"how": "reset"}
        )
    delivery = Delivery.objects.get(user=user, channel="email")
    Delivery.objects.filter(pk=delivery.pk).update(
        created_at=delivery.created_at.replace(year=2020)
    )
    celery_app.set_current()  # the requeued tasks run here (eager), as a worker would
    mail.outbox.clear()
    twice_at_once(notifications_services.deliveries_requeue)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len([m for m in mail.outbox if "rex@example.com" in m.to]) == 1
