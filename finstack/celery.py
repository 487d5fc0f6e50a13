import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finstack.settings.dev")

# Every task counts its deliveries (a poison message is parked, not looped) and every beat job
# runs once at a time (apps.core.deliveries).
app = Celery("finstack", task_cls="apps.core.deliveries:GuardedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
