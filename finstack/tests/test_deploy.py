"""Deployment: Kubernetes manifests (validated offline, strict), monitoring, storage, queues."""

import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
VERSION = "1.37.0"


def documents():
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            yield pytest.param(doc, id=f"{path.name}:{doc['kind']}")


@pytest.mark.parametrize("doc", list(documents()))
def test_manifest_is_valid(doc):
    kubernetes_validate.validate(doc, VERSION, strict=True)


def test_the_validator_catches_a_mistake():  # negative control
    doc = yaml.safe_load((K8S / "beat.yaml").read_text())
    doc["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSION, strict=True)


def test_exactly_one_beat():
    doc = yaml.safe_load((K8S / "beat.yaml").read_text())
    assert doc["spec"]["replicas"] == 1
    assert doc["spec"]["strategy"]["type"] == "Recreate"


def test_the_grafana_dashboard_charts_metrics_we_export(client, db):
    import json

    dashboard = json.loads(
        (K8S.parent / "monitoring" / "grafana" / "dashboards" / "finstack.json").read_text()
    )
    import re

    exported = client.get("/metrics").content.decode()
    for panel in dashboard["panels"]:
        for metric in re.findall(r"finstack_[a-z_]+", panel["targets"][0]["expr"]):
            family = re.sub(r"_(bucket|count|sum|total)$", "", metric)
            assert re.search(rf"# TYPE {family}(_total)? ", exported), metric


def test_compose_file_parses_with_the_monitoring_profile():
    compose = yaml.safe_load((K8S.parents[1] / "docker-compose.yml").read_text())
    assert compose["services"]["prometheus"]["profiles"] == ["monitoring"]
    assert "web" in compose["services"]


def test_production_puts_uploads_on_s3_when_a_bucket_is_given():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finstack.settings.production",
        "SECRET_KEY": "x" * 50,
        "JWT_PRIVATE_KEY": "unused",
        "MFA_ENCRYPTION_KEYS": "unused",
        "METRICS_TOKEN": "unused",
        "PAYMENTS_SIMULATED_WEBHOOK_SECRET": "unused-p",
        "KYC_SIMULATED_WEBHOOK_SECRET": "unused-k",
        "S3_BUCKET": "finstack-kyc",
        "S3_ENDPOINT_URL": "http://minio:9000",
    }
    snippet = (
        "import django; django.setup(); from django.core.files.storage import storages;"
        "s = storages['default']; print(type(s).__name__, s.bucket_name, s.default_acl)"
    )
    out = subprocess.run(
        [sys.executable, "-c", snippet],
        env=env,
        cwd=K8S.parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.stdout.split() == ["S3Storage", "finstack-kyc", "private"], out.stderr[-1500:]


def test_money_notification_and_webhook_tasks_have_their_own_queues():
    from finstack.settings import base

    assert base.CELERY_TASK_ROUTES["payments.*"] == {"queue": "money"}
    assert base.CELERY_TASK_ROUTES["webhooks.*"] == {"queue": "webhooks"}
    worker = yaml.safe_load((K8S / "worker.yaml").read_text())
    args = worker["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "default,money,notifications,webhooks" in args
