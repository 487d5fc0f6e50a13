"""Settings of the end-to-end test's processes (tests/stack.py): real queues, and e-mails
written to files the browser script reads its codes from (E2E_MAIL_DIR)."""

import os

from tests.stack_settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["E2E_MAIL_DIR"]
