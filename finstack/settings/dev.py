"""Development: convenient defaults, readable logs, mails printed to the console."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-secret-key-change-me")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# Webhook receivers on this machine (http://127.0.0.1:...) during development.
os.environ.setdefault("WEBHOOKS_ALLOW_HTTP", "true")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "true")

from .keys import dev_rsa_private_key, fernet_key_from  # noqa: E402

_DATA = Path(__file__).resolve().parents[2] / ".data"
os.environ.setdefault("JWT_PRIVATE_KEY", dev_rsa_private_key(_DATA / "dev-jwt-private.pem"))
os.environ.setdefault("MFA_ENCRYPTION_KEYS", fernet_key_from(os.environ["SECRET_KEY"]))

from .base import *  # noqa: E402, F403
