"""Beat's polling of the live cards registered for drift watch (thin over the services)."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def watches_poll(self) -> int:
    """Poll every active watched card with its ETag; drift opens a finding (once)."""
    return services.watches_poll_due()
