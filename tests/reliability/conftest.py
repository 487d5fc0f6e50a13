"""The fault tests' fixtures (a Valkey of their own or RabbitMQ, a Celery app, a
worker subprocess)."""

from tests.reliability.faults import (  # noqa: F401 - fixtures, found by name
    fault_broker,
    fault_dir,
    fault_queue,
    fault_rabbitmq,
    fault_server,
    fault_valkey,
    fault_worker,
)
