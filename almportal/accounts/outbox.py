"""The e-mail outbox: notifications (and the few e-mails to addresses outside the portal) are
rows written in the transaction of the change; the worker sends them from here.

A run claims due rows (SKIP LOCKED on PostgreSQL) by pushing their `email_due_at` a lease
ahead: that is the sending state. A row is marked e-mailed only once the mail server accepted
it; a failure counts an attempt and makes the row due again after a backoff; a row whose sender
died (a killed worker) comes due again when its lease ends. So a run may be repeated, run twice
at once or redelivered, and each row is e-mailed once. A person gets at most one e-mail per
run: their notifications travel together as a digest, over one SMTP connection for the run."""

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core import mail
from django.db import OperationalError, connection, models, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from .models import Notification, OutgoingEmail

log = logging.getLogger(__name__)

ID_HEADER = "X-ALM-Notifications"


@dataclass
class Envelope:
    """One e-mail of a run and the outbox rows it carries."""

    model: type[models.Model]
    ids: list[int]
    attempts: int
    message: mail.EmailMessage


@dataclass
class OutboxRun:
    sent: int = 0
    failed: int = 0
    more_waiting: bool = False
    retry_in: list[float] = field(default_factory=list)

    @property
    def next_retry(self) -> float | None:
        return min(self.retry_in) if self.retry_in else None


def email_queue(*, to: list[str], subject: str, body: str) -> OutgoingEmail | None:
    """Queue an e-mail to addresses outside the portal; it leaves when the transaction
    commits."""
    to = sorted({address.strip() for address in to if address and address.strip()})
    if not to:
        return None
    email = OutgoingEmail.objects.create(to=to, subject=subject[:200], body=body,
                                         email_due_at=timezone.now())
    transaction.on_commit(wake_the_outbox)
    return email


def outbox_send(*, now: datetime | None = None, limit: int | None = None) -> OutboxRun:
    """Send what is due, once."""
    now = now or timezone.now()
    limit = limit or settings.OUTBOX_BATCH
    notification_ids = _claim(Notification, now, limit)
    email_ids = _claim(OutgoingEmail, now, limit)
    envelopes = _digests(notification_ids) + _emails(email_ids)
    run = _deliver(envelopes)
    run.more_waiting = len(notification_ids) == limit or len(email_ids) == limit
    return run


def _claim(model: type[models.Model], now: datetime, limit: int) -> list[int]:
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        due = model._default_manager.filter(email_due_at__lte=now).order_by("email_due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        model._default_manager.filter(pk__in=ids).update(email_due_at=now + lease)
    return ids


def _link(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url else settings.SITE_URL


def _digests(ids: list[int]) -> list[Envelope]:
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for row in Notification.objects.filter(pk__in=ids).select_related("user").order_by("pk"):
        by_person[row.user_id].append(row)
    envelopes = []
    for rows in by_person.values():
        user = rows[0].user
        if len(rows) == 1:
            subject, body = rows[0].subject, f"{rows[0].body}\n\n{_link(rows[0].url)}\n".lstrip()
        else:
            subject = f"{len(rows)} new notifications in the ALM Portal"
            body = "\n\n".join("\n".join(part for part in (row.subject, row.body,
                                                            _link(row.url)) if part)
                               for row in rows) + "\n"
        message = mail.EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email],
                                    headers={ID_HEADER: ",".join(str(r.pk) for r in rows)})
        envelopes.append(Envelope(Notification, [r.pk for r in rows],
                                  max(r.email_attempts for r in rows), message))
    return envelopes


def _emails(ids: list[int]) -> list[Envelope]:
    return [Envelope(OutgoingEmail, [row.pk], row.email_attempts,
                     mail.EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL,
                                       row.to))
            for row in OutgoingEmail.objects.filter(pk__in=ids).order_by("pk")]


def _deliver(envelopes: list[Envelope]) -> OutboxRun:
    """Send each envelope over one connection. A refused recipient fails that e-mail only;
    any other error (the server down or silent) fails the rest of the run, to be retried."""
    run = OutboxRun()
    if not envelopes:
        return run
    sender = mail.get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    try:
        for position, envelope in enumerate(envelopes):
            try:
                sender.open()  # once: an open connection is kept for the whole run
                sender.send_messages([envelope.message])
            except smtplib.SMTPRecipientsRefused as error:
                _failed(run, envelope, error)
                continue
            except Exception as error:
                log.warning("The mail server failed; %d e-mails wait for the next try.",
                            len(envelopes) - position, exc_info=True)
                for waiting in envelopes[position:]:
                    _failed(run, waiting, error)
                break
            _sent(run, envelope)
    finally:
        _close_quietly(sender)
    return run


def _sent(run: OutboxRun, envelope: Envelope) -> None:
    # An outside e-mail's body may hold a one-time link (a password reset): once it has left,
    # nobody with database or admin access should be able to read it back.
    blank = {"body": ""} if envelope.model is OutgoingEmail else {}
    envelope.model._default_manager.filter(pk__in=envelope.ids).update(
        emailed_at=timezone.now(), email_due_at=None, email_error="", **blank)
    run.sent += 1


def retry_delay(attempts: int) -> float:
    """Exponential backoff: the first retry after OUTBOX_RETRY_SECONDS, doubling, capped."""
    return float(min(settings.OUTBOX_RETRY_SECONDS * 2 ** max(attempts - 1, 0),
                     settings.OUTBOX_RETRY_MAX_SECONDS))


def _failed(run: OutboxRun, envelope: Envelope, error: Exception) -> None:
    delay = retry_delay(envelope.attempts + 1)
    envelope.model._default_manager.filter(pk__in=envelope.ids).update(
        email_attempts=F("email_attempts") + 1, email_error=(repr(error) or "failed")[:500],
        email_due_at=timezone.now() + timedelta(seconds=delay))
    run.failed += 1
    run.retry_in.append(delay)


def _close_quietly(sender) -> None:
    try:
        sender.close()
    except Exception:  # a server that stopped answering cannot be told goodbye
        log.debug("Closing the mail connection failed.", exc_info=True)


@dataclass
class OutboxStatus:
    waiting: int
    failing: int
    oldest: datetime | None

    @property
    def ok(self) -> bool:
        return self.failing == 0


def outbox_status() -> OutboxStatus:
    """For the admin's system health: e-mails not yet sent, those that failed at least once,
    and when the oldest waiting one was written."""
    waiting = failing = 0
    oldest: list[datetime] = []
    for model in (Notification, OutgoingEmail):
        row = model._default_manager.filter(email_due_at__isnull=False).aggregate(
            waiting=models.Count("pk"), failing=models.Count("pk", filter=Q(email_attempts__gt=0)),
            oldest=Min("created_at"))
        waiting, failing = waiting + row["waiting"], failing + row["failing"]
        oldest += [row["oldest"]] if row["oldest"] else []
    return OutboxStatus(waiting, failing, min(oldest) if oldest else None)


# --- The worker's side: the task that sends, and how a change wakes it ----------------------

@shared_task(name="almportal.accounts.tasks.outbox_send", bind=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def outbox_send_task(self) -> int:
    """Send one batch; go on at once when more waits, or after the backoff when some failed.
    Safe to redeliver: rows are claimed, and marked e-mailed only once sent."""
    run = outbox_send()
    if run.more_waiting:
        self.apply_async()
    elif run.next_retry is not None:
        self.apply_async(countdown=run.next_retry)
    return run.sent


def wake_the_outbox() -> None:
    """Ask the worker to e-mail now rather than at its next periodic run. A broker that is down
    loses nothing: the rows wait in the outbox and the periodic run sends them."""
    try:
        outbox_send_task.apply_async(retry=False)
    except Exception:
        log.warning("Could not wake the e-mail outbox; its periodic run will send the e-mail.",
                    exc_info=True)
