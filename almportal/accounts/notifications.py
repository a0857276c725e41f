"""Notifications: in-app rows plus an email each, sent after the transaction commits.

Any app may call `notify`; a reminder passes a `dedupe_key` naming the object and the period,
and the unique constraint on (user, dedupe_key) makes a second send a no-op, even when two
scans run at once."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Notification, User


def _email(notification_ids: list[int]) -> None:
    for notification in Notification.objects.filter(pk__in=notification_ids,
                                                    emailed_at__isnull=True).select_related("user"):
        if not notification.user.email:
            continue
        link = f"{settings.SITE_URL}{notification.url}" if notification.url else settings.SITE_URL
        send_mail(notification.subject, f"{notification.body}\n\n{link}\n".lstrip(),
                  settings.DEFAULT_FROM_EMAIL, [notification.user.email], fail_silently=True)
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())


def notify(*, users: Iterable[User], kind: str, subject: str, body: str = "", url: str = "",
           dedupe_key: str = "") -> list[Notification]:
    """Notify each active person once; return the notifications actually created."""
    created = []
    for user in {u.pk: u for u in users if u is not None}.values():
        if not user.is_active or user.is_service_account:
            continue
        try:
            with transaction.atomic():
                created.append(Notification.objects.create(
                    user=user, kind=kind, subject=subject[:200], body=body, url=url,
                    dedupe_key=dedupe_key))
        except IntegrityError:
            if not dedupe_key:
                raise
    if created:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: _email(ids))
    return created


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_mark_read(*, actor: User, notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk, user=actor, read_at__isnull=True).update(
        read_at=timezone.now())


def notifications_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(
        read_at=timezone.now())
