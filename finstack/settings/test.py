"""Tests: real PostgreSQL and Redis, fast hashing, Celery tasks run in-process unless a test
starts a real worker."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from .keys import dev_rsa_private_key, fernet_key_from  # noqa: E402

_DATA = Path(__file__).resolve().parents[2] / ".data"
os.environ.setdefault("JWT_PRIVATE_KEY", dev_rsa_private_key(_DATA / "test-jwt-private.pem"))
os.environ.setdefault("MFA_ENCRYPTION_KEYS", fernet_key_from(os.environ["SECRET_KEY"]))

from .base import *  # noqa: E402, F403
from .base import CACHES, DATABASES, STORAGES  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
OUTBOX_DISPATCH = "inline"
# Test runs share the machine's Redis with `make run` and with each other (one database name
# per checkout): keep their cache keys and task queues apart.
_RUN = DATABASES["default"]["NAME"]
CACHES["default"]["KEY_PREFIX"] = f"test-{_RUN}"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
CELERY_TASK_DEFAULT_QUEUE = f"test-{_RUN}"
CELERY_TASK_ROUTES = {}  # every task of a test run on its own queue
NOTIFICATIONS_BACKENDS = {
    "email": "apps.notifications.channels.basic.DjangoEmail",
    "sms": "apps.notifications.channels.basic.Memory",
    "push": "apps.notifications.channels.basic.Memory",
}
PAYMENTS_SIMULATED_AUTO_CALLBACK = False  # tests deliver the bank's callbacks themselves
KYC_SIMULATED_AUTO_CALLBACK = False  # tests deliver the vendor's answers themselves
# The tests' webhook receiver listens on http://127.0.0.1; the SSRF tests turn these off.
WEBHOOKS_ALLOW_HTTP = True
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
WEBHOOKS_TIMEOUT_SECONDS = 1  # the receiver that hangs is given up on quickly

RISK_RULES_CACHE_SECONDS = 3600  # cached as in production; conftest forgets it per test
