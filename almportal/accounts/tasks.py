"""The e-mail outbox's worker side (see accounts.outbox). Woken after each change that
notifies someone, and run every minute by beat as the safety net."""

from celery import shared_task
from django.db import OperationalError

from . import outbox


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def outbox_send(self) -> int:
    """Send one batch; go on at once when more waits, or after the backoff when some failed.
    Safe to redeliver: rows are claimed, and marked e-mailed only once sent."""
    run = outbox.outbox_send()
    if run.more_waiting:
        self.apply_async()
    elif run.next_retry is not None:
        self.apply_async(countdown=run.next_retry)
    return run.sent
