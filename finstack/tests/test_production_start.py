"""Production as an operator starts it: secrets made by `generate_secrets` and mounted as
files, gunicorn on the production settings, probed over plain HTTP as the kubelet probes (Host:
the pod IP, not in ALLOWED_HOSTS). Also what production refuses to start with."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db import connection

from finstack import secrets

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(secret_dir: Path, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECRET_KEY", "JWT_", "MFA_", "METRICS_"))
    }
    files = {
        f"{variable}_FILE": str(secret_dir / name)
        for name, (variable, _) in secrets.SECRETS.items()
    }
    return {
        **clean,
        **files,
        "DJANGO_SETTINGS_MODULE": "finstack.settings.production",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "ALLOWED_HOSTS": "api.finstack.example,finstack-web",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def probe(port: int, path: str, host: str, method: str = "GET") -> tuple[int, dict | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, headers={"Host": host, "User-Agent": "kube-probe/1.31"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, None


@pytest.fixture
def secret_dir(tmp_path, capsys):
    call_command("generate_secrets", "--dir", str(tmp_path / "secrets"))
    return tmp_path / "secrets"


def serve(env: dict[str, str], log: Path):
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own app
            [sys.executable, "-m", "gunicorn", "finstack.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return port, process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    pytest.fail("gunicorn did not start: " + log.read_text())


def stop(process) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def test_generated_secrets_start_production_and_the_kubelet_gets_healthy_answers(
    secret_dir, tmp_path, dead_redis_url
):
    port, process = serve(production_env(secret_dir), tmp_path / "gunicorn.log")
    try:
        pod_ip = f"10.244.1.7:{port}"
        assert probe(port, "/healthz", pod_ip) == (200, {"status": "ok"})
        status, body = probe(port, "/readyz", pod_ip)
        assert (status, body["status"]) == (200, "ok"), body
        # The host check still guards everything else (and HTTPS is still enforced).
        assert probe(port, "/api/v1/wallets", pod_ip)[0] == 400
        assert probe(port, "/api/v1/wallets", "api.finstack.example")[0] == 301
        assert probe(port, "/metrics", "api.finstack.example")[0] in (301, 401)
    finally:
        stop(process)
    # A Redis outage: still ready (degraded), so the pod stays in the load balancer.
    env = production_env(secret_dir, REDIS_URL=dead_redis_url)
    port, process = serve(env, tmp_path / "gunicorn-no-redis.log")
    try:
        status, body = probe(port, "/readyz", f"10.244.1.7:{port}")
        assert (status, body["status"]) == (200, "degraded"), body
        assert body["checks"]["redis"].startswith("unavailable")
    finally:
        stop(process)


def check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_with_metrics_open_or_development_secrets(secret_dir):
    assert check(production_env(secret_dir)).returncode == 0  # given: all secrets

    no_token = production_env(secret_dir, METRICS_TOKEN_FILE="")
    no_token.pop("METRICS_TOKEN_FILE")
    refused = check(no_token)
    dev_secret = production_env(secret_dir, PAYMENTS_SIMULATED_WEBHOOK_SECRET="x")
    dev_secret.pop("PAYMENTS_SIMULATED_WEBHOOK_SECRET_FILE")
    dev_secret.pop("PAYMENTS_SIMULATED_WEBHOOK_SECRET")  # falls back to the development default

    assert refused.returncode != 0
    assert "Set METRICS_TOKEN" in refused.stderr
    refused = check(dev_secret)
    assert refused.returncode != 0
    assert "the development defaults are public" in refused.stderr


def test_generate_secrets_makes_each_in_its_format_and_keeps_existing_ones(tmp_path, capsys):
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    target = tmp_path / "s"
    call_command("generate_secrets", "--dir", str(target), "--mount", "/run/secrets/finstack")
    printed = capsys.readouterr().out.split()

    assert "JWT_PRIVATE_KEY_FILE=/run/secrets/finstack/jwt_private_key" in printed
    assert load_pem_private_key((target / "jwt_private_key").read_bytes(), None).key_size == 2048
    Fernet((target / "mfa_encryption_keys").read_text())  # a valid key
    assert len((target / "secret_key").read_text()) >= 50
    assert oct((target / "secret_key").stat().st_mode & 0o777) == "0o600"
    before = {p.name: p.read_text() for p in target.iterdir()}
    call_command("generate_secrets", "--dir", str(target))  # again: nothing replaced
    assert {p.name: p.read_text() for p in target.iterdir()} == before


def test_compose_and_manifests_give_every_secret_and_the_callback_address():
    config = yaml.safe_load((ROOT / "deploy/k8s/config.yaml").read_text())["data"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app = compose["services"]["web"]["environment"]
    for name, (variable, _) in secrets.SECRETS.items():
        assert config[f"{variable}_FILE"] == f"/run/secrets/finstack/{name}"
        assert app[f"{variable}_FILE"] == f"/run/secrets/{name}"
        assert name in compose["secrets"]
    for env in (config, app):
        callback_host = env["CALLBACK_BASE_URL"].split("//")[1].split(":")[0]
        assert callback_host in env["ALLOWED_HOSTS"].split(",")
    assert "127.0.0.1" not in config["CALLBACK_BASE_URL"]
