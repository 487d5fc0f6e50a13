"""The receiver (apps/webhooks/tests/receiver.py), a closed port for refused connections,
and endpoints made through the service."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from apps.webhooks.tests.receiver import Receiver, serving
from tests.security import pii


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as box:
        yield box


@pytest.fixture
def closed_url() -> str:
    """A port where nothing listens: the connection is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
def make_endpoint():
    """An endpoint through the public service; its secret is seeded so that no log line of
    the run may carry it."""
    from apps.webhooks import services

    def make(url: str, event_types: tuple[str, ...] = (), **fields: object):
        created = services.endpoint_create(url=url, event_types=event_types, **fields)
        pii.seed(created.secret)
        return created

    return make
