"""Development: convenient defaults, readable logs, mails printed and kept for /dev/mail/."""

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

# Mails are printed and kept for the development mailbox at /dev/mail/ (finstack/devmail.py),
# unless EMAIL_URL names a real transport.
if "EMAIL_URL" not in os.environ:
    EMAIL_BACKEND = "finstack.devmail.ConsoleAndFileBackend"
    EMAIL_FILE_PATH = str(_DATA / "mail")
