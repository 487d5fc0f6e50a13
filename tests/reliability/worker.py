"""The Celery app a fault test's worker subprocess runs (`celery -A tests.reliability.worker`).

The project's app and settings, pointed at the test's broker (a Valkey server the test
started, or RabbitMQ) and queue, tasks really queued (not eager). The settings pick the
broker's options from CELERY_BROKER_URL (finstack.settings.base): on RabbitMQ the test's queue
is declared a quorum queue, and a dead worker's unacknowledged message comes back as soon as
its connection closes. On Redis, transport options bring it back within seconds:
visibility_timeout=10, unacked_restore_interval=1, unacked_restore_throttle=1 (production
keeps its hour). Adds the fault point inside the simulated bank's payout (the outside world)
and a poison task.
"""

import os
import signal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finstack.settings.test")

import django  # noqa: E402

django.setup()

from apps.core import faults  # noqa: E402
from apps.core.deliveries import GuardedTask  # noqa: E402
from apps.payments.providers.simulated import SimulatedProvider  # noqa: E402
from finstack.celery import app  # noqa: E402
from finstack.settings import broker  # noqa: E402

FAST_RESTORE = {
    "visibility_timeout": 10,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

app.conf.update(
    task_always_eager=False,
    broker_url=os.environ["FAULTS_BROKER"],
    task_default_queue=os.environ["FAULTS_QUEUE"],
)
if not broker.is_amqp(os.environ["FAULTS_BROKER"]):
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, **FAST_RESTORE}

_real_payout = SimulatedProvider.payout


def _payout(self, **kwargs):  # type: ignore[no-untyped-def]
    with open(os.path.join(os.environ["FINSTACK_FAULTS"], "payout.calls"), "a") as calls:
        calls.write(f"{kwargs['payment_id']}\n")
    accepted = _real_payout(self, **kwargs)
    faults.point("provider.payout")  # the bank has booked it; our answer dies with us
    return accepted


SimulatedProvider.payout = _payout  # type: ignore[method-assign]


@app.task(name="tests.poison", base=GuardedTask, bind=True, acks_late=True, ignore_result=True)
def poison(self, label: str) -> None:  # type: ignore[no-untyped-def]
    """Kills the process running it, on every delivery (an out-of-memory kill, a segfault)."""
    with open(os.path.join(os.environ["FINSTACK_FAULTS"], "poison.runs"), "a") as runs:
        runs.write(f"{label}\n")
    os.kill(os.getpid(), signal.SIGKILL)


@app.task(name="tests.crash", base=GuardedTask, bind=True, acks_late=True, ignore_result=True)
def crash(self, label: str) -> None:  # type: ignore[no-untyped-def]
    """Fails on every run with an error nobody retries."""
    raise RuntimeError(f"cannot handle {label}")
