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
