"""Periodic release work (Celery beat, see almportal/celery.py): thin wrappers over services,
safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import voiding


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def releases_sweep(self) -> int:
    """Void the approvals and sign-offs that no longer stand (an assessment past its period)."""
    return len(voiding.releases_sweep())
