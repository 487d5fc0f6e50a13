"""Redis away: requests that do not need it keep working (no 5xx)."""

import pytest

from apps.core.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.core.tests.urls")]


@pytest.fixture
def redis_down(settings, dead_redis_url, broker_down):
    settings.REDIS_URL = dead_redis_url
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": dead_redis_url,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    # Overriding CACHES makes Django rebuild its cache handler (setting_changed).


def test_throttled_endpoint_still_answers_when_the_cache_is_down(api_client, redis_down):
    for _ in range(3):  # past the 2/min rate: the throttle cannot count, so it lets them in
        response = api_client.get("/api/v1/throttled")
        assert response.status_code == 200


def test_write_commits_and_keeps_its_event_when_the_broker_is_down(
    api_client, redis_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/publish", {"label": "offline"}, format="json")
    assert response.status_code == 201
    event = OutboxEvent.objects.get(pk=response.json()["event_id"])
    assert event.dispatched_at is None  # waits for the sweeper


def test_readyz_is_degraded_and_healthz_200_when_redis_is_down(api_client, redis_down):
    assert api_client.get("/healthz").status_code == 200
    ready = api_client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
