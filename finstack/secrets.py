"""The secrets a deployment needs, made in the formats the settings read: one file per secret
(a Docker or Kubernetes secret mounted as a file, read through its NAME_FILE variable)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _fernet() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# file name -> (the variable that reads it, how to make one)
SECRETS: dict[str, tuple[str, Callable[[], str]]] = {
    "secret_key": ("SECRET_KEY", lambda: secrets.token_urlsafe(50)),
    "jwt_private_key": ("JWT_PRIVATE_KEY", _rsa_pem),  # RS256 signing key of mobile tokens
    "mfa_encryption_keys": ("MFA_ENCRYPTION_KEYS", _fernet),  # encrypts TOTP secrets at rest
    "metrics_token": ("METRICS_TOKEN", lambda: secrets.token_urlsafe(32)),
    "payments_simulated_webhook_secret": (
        "PAYMENTS_SIMULATED_WEBHOOK_SECRET",
        lambda: "whsec_" + secrets.token_urlsafe(32),
    ),
    "kyc_simulated_webhook_secret": (
        "KYC_SIMULATED_WEBHOOK_SECRET",
        lambda: secrets.token_urlsafe(32),
    ),
}


def generate(directory: Path) -> list[tuple[str, bool]]:
    """Write every missing secret file (mode 0600); an existing one is kept, so running it
    again never replaces a key in use (rotation has its own runbook). Returns (name, made)."""
    directory.mkdir(parents=True, exist_ok=True)
    done = []
    for name, (_, make) in SECRETS.items():
        path = directory / name
        if path.exists():
            done.append((name, False))
            continue
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(make())
        done.append((name, True))
    return done
