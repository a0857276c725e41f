"""The Celery application. Tasks are thin wrappers over services; periodic scans live in the
beat schedule below, so nothing depends on long ETA tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "almportal.settings")

app = Celery("almportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "heartbeat": {"task": "almportal.core.tasks.beat_heartbeat", "schedule": 30.0},
}
