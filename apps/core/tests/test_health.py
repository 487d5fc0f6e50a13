import pytest

pytestmark = pytest.mark.django_db


def test_healthz_says_the_process_is_up(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(api_client, redis_server):
    response = api_client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok"},
    }


def test_readyz_names_redis_when_it_is_down(api_client, settings, dead_redis_url):
    settings.REDIS_URL = dead_redis_url
    response = api_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unavailable")
