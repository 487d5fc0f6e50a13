"""Celery settings that depend on the broker's kind. Imported by base.py; the fault tests'
producers build the same options for the brokers they start.

Redis (the default, for a laptop) needs a visibility timeout; RabbitMQ (production) gets
quorum queues, replicated and durable, and publisher confirms, so that a message the broker
accepted survives a broker restart and one it refused raises instead of vanishing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kombu import Exchange, Queue

AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
# Routed by CELERY_TASK_ROUTES; `default` is CELERY_TASK_DEFAULT_QUEUE.
QUEUES = ("default", "money", "notifications", "webhooks")
QUORUM = {"x-queue-type": "quorum"}

# A producer (an after-commit outbox send) gives up at once when the broker is away instead of
# retrying for seconds inside a request: the outbox sweeper re-sends later.
PRODUCER_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def is_amqp(url: str) -> bool:
    return urlsplit(url).scheme in AMQP_SCHEMES


def redis_transport_options(*, visibility_timeout: int) -> dict[str, Any]:
    return {
        # Must stay above the longest task, or Redis re-delivers a task that is still running.
        "visibility_timeout": visibility_timeout,
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
        **PRODUCER_RETRY,
    }


def amqp_transport_options() -> dict[str, Any]:
    """py-amqp passes these to `amqp.Connection`, which silently swallows unknown keys: no Redis
    option is given to it. A refused connection fails at once; `connect_timeout` bounds a broker
    that accepts TCP but never answers (it covers the AMQP handshake too)."""
    return {"confirm_publish": True, "connect_timeout": 1, **PRODUCER_RETRY}


def quorum_queue(name: str) -> Queue:
    """Durable (quorum queues cannot be anything else), on a topic exchange of its own: Celery's
    native delayed delivery, which countdown retries need on quorum queues, skips direct
    exchanges (a delayed task would then sit unacknowledged in a worker until its ETA)."""
    return Queue(
        name,
        Exchange(name, type="topic", durable=True),
        routing_key=name,
        durable=True,
        queue_arguments=QUORUM,
    )
