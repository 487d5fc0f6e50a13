"""A fresh process can sign tokens after anything imported part of `cryptography` first (a
lazy-import trap in allauth: see AccountsConfig.ready)."""

import os
import subprocess
import sys
from pathlib import Path

SNIPPET = """
import django
django.setup()
import cryptography.fernet  # e.g. the MFA adapter, loaded before the first token
from allauth.headless.tokens.strategies.jwt import internal
print(internal._get_jwt_config().algorithm)
"""


def test_a_fresh_process_loads_the_signing_key():
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", SNIPPET],
        cwd=root,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "finstack.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("RS256")
