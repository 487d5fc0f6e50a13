import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finstack.settings.dev")

app = Celery("finstack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
