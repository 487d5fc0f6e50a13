"""Production settings: secure by `check --deploy`, secrets readable from files."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "finstack.settings.production",
    "ALLOWED_HOSTS": "api.finstack.example",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/finstack"),
    "REDIS_URL": settings.REDIS_URL,
    "METRICS_TOKEN": "scrape-token",
    "PAYMENTS_SIMULATED_WEBHOOK_SECRET": "whsec_for_this_test",
    "KYC_SIMULATED_WEBHOOK_SECRET": "kyc_for_this_test",
}


def run(args, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY"))}
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("k3Y-" + "x9Qz!7bW" * 8)
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {**PRODUCTION_ENV, "SECRET_KEY_FILE": str(secret)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run(["manage.py", "check"], PRODUCTION_ENV)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_any_setting_can_come_from_a_file(tmp_path):
    (tmp_path / "key").write_text("from-a-mounted-secret")
    (tmp_path / "db").write_text("postgres://app:s3cret@db.internal:5433/money")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(s.SECRET_KEY, d['HOST'], d['PORT'], d['PASSWORD'])"
    )
    result = run(
        ["-c", code],
        {
            **PRODUCTION_ENV,
            "SECRET_KEY_FILE": str(tmp_path / "key"),
            "DATABASE_URL_FILE": str(tmp_path / "db"),
            "DATABASE_URL": "",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["from-a-mounted-secret", "db.internal", "5433", "s3cret"]


CELERY_VIEW = (
    "import json, django; django.setup(); from finstack.celery import app; "
    "from celery.utils.quorum_queues import detect_quorum_queues; c = app.conf; "
    "print(json.dumps({"
    "'queues': {q.name: [q.queue_arguments, q.durable, q.exchange.type]"
    " for q in (c.task_queues or ())},"
    "'options': c.broker_transport_options, 'quorum': detect_quorum_queues(app, 'amqp')[0],"
    "'default_type': c.task_default_queue_type, 'missing_type': c.task_create_missing_queue_type,"
    "'acks_late': c.task_acks_late, 'reject_lost': c.task_reject_on_worker_lost,"
    "'prefetch': c.worker_prefetch_multiplier}))"
)


def celery_view(broker_url):
    import json

    result = run(
        ["-c", CELERY_VIEW],
        {**PRODUCTION_ENV, "SECRET_KEY": "k3Y-" + "x9Qz!7bW" * 8, "CELERY_BROKER_URL": broker_url},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_rabbitmq_the_queues_are_quorum_and_publishes_confirmed():
    view = celery_view("amqp://app:pw@rabbitmq.internal:5672/finstack")
    quorum = [{"x-queue-type": "quorum"}, True, "topic"]
    assert view["queues"] == {
        "default": quorum,
        "money": quorum,
        "notifications": quorum,
        "webhooks": quorum,
    }
    assert view["quorum"] is True  # so the worker turns global QoS off
    assert (view["default_type"], view["missing_type"]) == ("quorum", "quorum")
    assert view["options"]["confirm_publish"] is True
    assert not {"visibility_timeout", "socket_timeout", "socket_connect_timeout"} & set(
        view["options"]
    )
    assert (view["acks_late"], view["reject_lost"], view["prefetch"]) == (True, True, 1)


def test_with_redis_nothing_amqp_specific_is_set():
    view = celery_view("redis://redis.internal:6379/0")
    assert view["queues"] == {}
    assert view["quorum"] is False
    assert (view["default_type"], view["missing_type"]) == ("classic", "classic")
    assert "confirm_publish" not in view["options"]
    assert view["options"]["visibility_timeout"] == 3600
    assert (view["acks_late"], view["reject_lost"], view["prefetch"]) == (True, True, 1)
