"""The Celery application. Tasks are thin wrappers over services; periodic scans live in the
beat schedule below, so nothing depends on long ETA tasks."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "almportal.settings")

app = Celery("almportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "heartbeat": {"task": "almportal.core.tasks.beat_heartbeat", "schedule": 30.0},
    # A safety net: history rows whose ledger append was lost (a crash after commit).
    "audit-ledger-catch-up": {"task": "almportal.audit.tasks.ledger_catch_up",
                              "schedule": crontab(minute="*/5")},
    "audit-ledger-verify": {"task": "almportal.audit.tasks.ledger_verify",
                            "schedule": crontab(hour=2, minute=15)},
    "audit-retention-expire": {"task": "almportal.audit.tasks.retention_expire",
                               "schedule": crontab(hour=2, minute=45)},
}
