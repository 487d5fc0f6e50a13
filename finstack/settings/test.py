"""Tests: real PostgreSQL and Redis, fast hashing, Celery tasks run in-process unless a test
starts a real worker."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from .base import *  # noqa: E402, F403
from .base import CACHES, STORAGES  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Test runs share the machine's Redis: keep their keys apart from a running `make run`.
CACHES["default"]["KEY_PREFIX"] = "finstack-test"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# A `make run` worker on the same Redis must never consume the tests' tasks.
CELERY_TASK_DEFAULT_QUEUE = "finstack-tests"
