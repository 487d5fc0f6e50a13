import io
import json
import logging
import logging.config
import re

import pytest
from django.conf import settings

from apps.core.logging import RequestIdFilter

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.core.tests.urls")]


@pytest.fixture
def console():
    """The stream of the console handler configured by LOGGING, as a string buffer."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestIdFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    yield buffer
    handler.setStream(old)


def test_request_id_is_generated_when_absent(api_client):
    response = api_client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_request_id_from_the_caller_is_kept(api_client):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID="mobile-42.abc")
    assert response["X-Request-ID"] == "mobile-42.abc"


@pytest.mark.parametrize("bad", ["with space", "x" * 129, "new\nline", "<script>"])
def test_unsafe_request_id_is_replaced(api_client, bad):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=bad)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_every_log_line_of_a_request_carries_its_id(api_client, console):
    api_client.get("/api/v1/plumbing?fail=crash", HTTP_X_REQUEST_ID="trace-me-7")
    lines = [line for line in console.getvalue().splitlines() if "ERROR" in line]
    assert lines
    assert all("[trace-me-7]" in line for line in lines)


def test_json_log_format_is_one_object_per_line():
    stream = io.StringIO()
    config = {**settings.LOGGING, "incremental": False}
    config["handlers"] = {
        "console": {
            **settings.LOGGING["handlers"]["console"],
            "formatter": "json",
            "stream": stream,
        }
    }
    config["handlers"]["console"]["class"] = "logging.StreamHandler"
    logging.config.dictConfig(config)
    try:
        logging.getLogger("finstack.test").warning("hello %s", "world")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["message"] == "hello world"
    assert record["level"] == "WARNING"
    assert record["request_id"] == "-"
