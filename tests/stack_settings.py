"""Settings of the processes whole-system tests start (tests/stack.py): the test settings
with real queues instead of eager tasks."""

from finstack.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
OUTBOX_DISPATCH = "background"
