"""Periodic review work (Celery beat, see almportal/celery.py). Each task is a thin wrapper over
one service, acts as the system user, and is safe to run twice or at once: the services claim
due rows under SKIP LOCKED and every reminder carries a once-per-period key."""

from typing import Any

from celery import shared_task
from django.db import OperationalError

from ..accounts.services import system_user
from . import reminders, services

RETRYING: dict[str, Any] = {"bind": True, "acks_late": True, "autoretry_for": (OperationalError,),
                            "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRYING)
def open_due_reviews(self) -> int:
    return len(services.access_reviews_open_due(actor=system_user()))


@shared_task(**RETRYING)
def escalate_overdue_reviews(self) -> int:
    return len(services.access_reviews_escalate_overdue(actor=system_user()))


@shared_task(**RETRYING)
def send_reminders(self) -> int:
    return reminders.reminders_send().total
