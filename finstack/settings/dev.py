"""Development: convenient defaults, readable logs, mails printed to the console."""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-secret-key-change-me")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

from .base import *  # noqa: E402, F403
