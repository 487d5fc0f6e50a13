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


def test_a_redis_blip_degrades_readiness_but_keeps_the_pod_serving(
    api_client, settings, dead_redis_url
):
    settings.REDIS_URL = dead_redis_url

    response = api_client.get("/readyz")

    assert response.status_code == 200  # still in the load balancer: the API works without it
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unavailable")


def test_the_degraded_dependency_shows_in_the_metrics(client, settings, dead_redis_url):
    settings.REDIS_URL = dead_redis_url

    text = client.get("/metrics").content.decode()

    assert 'finstack_dependency_up{dependency="redis"} 0.0' in text
    assert 'finstack_dependency_up{dependency="database"} 1.0' in text


def test_probes_answer_whatever_the_host_but_the_api_still_checks_it(client, settings):
    settings.ALLOWED_HOSTS = ["api.finstack.example"]
    settings.SECURE_SSL_REDIRECT = True
    kubelet = {"host": "10.244.1.7:8000", "user-agent": "kube-probe/1.31"}

    assert client.get("/healthz", headers=kubelet).status_code == 200
    assert client.get("/readyz", headers=kubelet).status_code == 200
    assert client.get("/api/v1/wallets", headers=kubelet).status_code == 400  # DisallowedHost
    assert client.post("/readyz", headers=kubelet).status_code == 400  # probes are GETs


def test_the_worker_check_needs_redis_and_the_broker(settings, dead_redis_url, broker_down):
    from django.core.management import CommandError, call_command

    settings.REDIS_URL = dead_redis_url
    with pytest.raises(CommandError, match="not ready"):  # broker and Redis away
        call_command("health", "--worker")


def test_the_worker_check_passes_with_its_services(capsys, redis_server):
    from django.core.management import call_command

    call_command("health", "--worker")

    assert '"status": "ok"' in capsys.readouterr().out
