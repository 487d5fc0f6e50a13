"""Settings of the processes an end-to-end test starts (gunicorn, a Celery worker): the test
settings with real queues instead of eager tasks, and e-mails written to files the browser
script reads its codes from (E2E_MAIL_DIR)."""

import os

from finstack.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
OUTBOX_DISPATCH = "background"
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["E2E_MAIL_DIR"]
