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
    # The e-mail outbox's safety net: what a lost wake-up or a failed try left waiting.
    "accounts-outbox-send": {"task": "almportal.accounts.tasks.outbox_send", "schedule": 60.0},
    # A safety net: history rows whose ledger append was lost (a crash after commit).
    "audit-ledger-catch-up": {"task": "almportal.audit.tasks.ledger_catch_up",
                              "schedule": crontab(minute="*/5")},
    # Evidence packs whose request to the worker was lost are queued again.
    "audit-packs-sweep": {"task": "almportal.audit.tasks.packs_sweep", "schedule": 60.0},
    # A signed checkpoint of the ledger head every 15 minutes (exports and packs sign one too).
    "audit-ledger-sign": {"task": "almportal.audit.tasks.ledger_sign",
                          "schedule": crontab(minute="*/15")},
    "audit-ledger-verify": {"task": "almportal.audit.tasks.ledger_verify",
                            "schedule": crontab(hour=2, minute=15)},
    "audit-retention-expire": {"task": "almportal.audit.tasks.retention_expire",
                               "schedule": crontab(hour=2, minute=45)},
    # Approvals resting on an assessment past its period are voided (sign-offs too).
    "releases-standing-sweep": {"task": "almportal.releases.tasks.releases_sweep",
                                "schedule": crontab(hour=1, minute=30)},
    # A retired agent whose final archive was never built (a lost message) gets it queued again.
    "retirement-final-archives-sweep": {
        "task": "almportal.retirement.tasks.final_archives_sweep", "schedule": 300.0},
    # Alerts clear (and daily budgets reset) even when no new batch arrives.
    "operations-thresholds-scan": {"task": "almportal.operations.tasks.thresholds_scan",
                                   "schedule": crontab(minute="*/5")},
    # Metric rollups per minute and hour; raw samples expire nightly, rollups stay.
    "operations-rollups-refresh": {"task": "almportal.operations.tasks.rollups_refresh",
                                   "schedule": 60.0},
    "operations-samples-expire": {"task": "almportal.operations.tasks.samples_expire",
                                  "schedule": crontab(hour=3, minute=5)},
    # The event log: each day's usage period per agent (kept six months at least: samples-expire).
    "operations-usage-summarise": {"task": "almportal.operations.tasks.usage_summarise",
                                   "schedule": crontab(hour=0, minute=20)},
    # Live A2A / MCP cards polled with ETag; drift from the approved manifest opens a finding.
    "standards-watches-poll": {"task": "almportal.standards.tasks.watches_poll",
                               "schedule": crontab(minute="*/15")},
    # Access reviews: a scan every 30 s opens what fell due (cheap when nothing did: a few
    # queries); overdue reviews escalate; reminders go out once per object per period.
    "reviews-open-due": {"task": "almportal.reviews.tasks.open_due_reviews", "schedule": 30.0},
    "reviews-escalate-overdue": {"task": "almportal.reviews.tasks.escalate_overdue_reviews",
                                 "schedule": crontab(minute="*/15")},
    "reviews-send-reminders": {"task": "almportal.reviews.tasks.send_reminders",
                               "schedule": crontab(minute=7)},
}
