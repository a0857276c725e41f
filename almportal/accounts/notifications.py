"""Notifications: in-app rows written in the transaction of the change that caused them, and
e-mailed later from the outbox by the worker (accounts.outbox), never inside a request.

Any app may call `notify`; a reminder passes a `dedupe_key` naming the object and the period,
and the unique constraint on (user, dedupe_key) makes a second send a no-op, even when two
scans run at once. Rows are inserted in bulk with conflicts ignored, so a scan that finds
nothing new costs one statement, not one failed insert per reminder."""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..core import caching
from .models import Notification, User
from .outbox import wake_the_outbox

log = logging.getLogger(__name__)

INSERT_BATCH = 1000
_COLUMNS = ("user_id", "kind", "subject", "body", "url", "dedupe_key", "created_at",
            "email_due_at", "email_attempts", "email_error")


@dataclass(frozen=True)
class Message:
    """One notification to write: whom, what, and its once-only key (blank: always)."""

    users: Iterable[User | None]  # None (an agent without an owner, say) is skipped
    kind: str
    subject: str
    body: str = ""
    url: str = ""
    dedupe_key: str = ""


def notify(*, users: Iterable[User | None], kind: str, subject: str, body: str = "",
           url: str = "", dedupe_key: str = "") -> list[Notification]:
    """Notify each active person once (None, an empty field, is skipped); return the
    notifications actually created."""
    ids = notify_many([Message(users, kind, subject, body, url, dedupe_key)])
    return list(Notification.objects.filter(pk__in=ids)) if ids else []


def notify_many(messages: Iterable[Message]) -> list[int]:
    """Write many notifications in a few statements; those whose key a person already has are
    skipped. The worker is asked to e-mail them once the transaction commits."""
    now = timezone.now()
    rows = [row for message in messages for row in _rows(message, now)]
    created: list[int] = []
    for start in range(0, len(rows), INSERT_BATCH):
        created += _insert_ignoring_duplicates(rows[start:start + INSERT_BATCH])
    if created:
        transaction.on_commit(wake_the_outbox)
        _forget_unread_counts({row[0] for row in rows})
    return created


def _rows(message: Message, now) -> list[tuple]:
    people = {u.pk: u for u in message.users if u is not None}.values()
    return [(user.pk, message.kind, message.subject[:200], message.body, message.url,
             message.dedupe_key, now, now if user.email else None, 0, "")
            for user in people if user.is_active and not user.is_service_account]


def _insert_ignoring_duplicates(rows: Sequence[tuple]) -> list[int]:
    if not rows:
        return []
    table = connection.ops.quote_name(Notification._meta.db_table)
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"] * len(rows))
    sql = (f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES {placeholders} "
           "ON CONFLICT DO NOTHING RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        return [pk for (pk,) in cursor.fetchall()]


def _unread_key(user_pk: int) -> str:
    return f"unread-notifications:{user_pk}"


def unread_count(user: User) -> int:
    """The header's count, from the cache: dropped when the user's notifications change."""
    return caching.remembered(
        _unread_key(user.pk),
        lambda: Notification.objects.filter(user=user, read_at__isnull=True).count(),
        settings.ACCESS_CACHE_SECONDS)


def _forget_unread_counts(user_pks: Iterable[int]) -> None:
    caching.forget(_unread_key(pk) for pk in user_pks)


def notification_mark_read(*, actor: User, notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk, user=actor, read_at__isnull=True).update(
        read_at=timezone.now())
    _forget_unread_counts([actor.pk])


def notifications_mark_all_read(*, actor: User) -> int:
    marked = Notification.objects.filter(user=actor, read_at__isnull=True).update(
        read_at=timezone.now())
    _forget_unread_counts([actor.pk])
    return marked
