import pytest
from django.core import mail

from almportal.accounts.models import Notification
from almportal.accounts.notifications import notifications_mark_all_read, notify, unread_count
from almportal.accounts.outbox import outbox_send

from ..factories import make_user

pytestmark = pytest.mark.django_db


def test_it_notifies_once_per_key_and_emails_a_link(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(users=[owner, owner], kind="test", subject="Review due",
                       url="/agents/x/", dedupe_key="review:1:2026-11")
        again = notify(users=[owner], kind="test", subject="Review due",
                       url="/agents/x/", dedupe_key="review:1:2026-11")
    assert len(first) == 1 and again == []
    assert Notification.objects.count() == 1
    assert mail.outbox == []  # the worker e-mails it (tests/accounts/test_outbox.py)
    outbox_send()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email] and "/agents/x/" in mail.outbox[0].body


def test_it_skips_inactive_people_and_service_accounts(db):
    gone = make_user(is_active=False)
    robot = make_user(is_service_account=True)
    assert notify(users=[gone, robot], kind="test", subject="x") == []


def test_it_counts_and_marks_read(owner):
    notify(users=[owner], kind="test", subject="a")
    notify(users=[owner], kind="test", subject="b")
    assert unread_count(owner) == 2
    assert notifications_mark_all_read(actor=owner) == 2
    assert unread_count(owner) == 0
