"""The e-mail outbox: rows written with the change, e-mailed by the worker's run, marked
e-mailed only once the mail server accepted them, retried with backoff, one digest per person
per run, and shown on the admin's system health."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from almportal.accounts.models import Notification, OutgoingEmail
from almportal.accounts.notifications import Message, notify, notify_many
from almportal.accounts.outbox import ID_HEADER, email_queue, outbox_send, outbox_status

from ..factories import make_user
from ..smtp_server import LoopbackSMTP

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    server = LoopbackSMTP()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 1
    settings.OUTBOX_RETRY_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 30, 120
    yield server
    server.close()


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_it_writes_notifications_without_sending_anything(owner):
    notify(users=[owner], kind="test", subject="Review due", url="/agents/x/")
    note = Notification.objects.get()
    assert note.emailed_at is None and note.email_due_at is not None
    assert mail.outbox == []


def test_it_emails_a_link_and_marks_the_row_emailed(owner):
    [note] = notify(users=[owner], kind="test", subject="Review due", url="/agents/x/")
    run = outbox_send()
    assert run.sent == 1 and len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email] and "/agents/x/" in mail.outbox[0].body
    note.refresh_from_db()
    assert note.emailed_at is not None and note.email_due_at is None
    assert outbox_send().sent == 0 and len(mail.outbox) == 1  # a second run sends nothing


def test_it_sends_one_digest_per_person_per_run(owner, other_owner):
    ids = notify_many([Message([owner], "test", f"Reminder {n}", dedupe_key=f"k:{n}")
                       for n in range(3)] + [Message([other_owner], "test", "Yours")])
    assert len(ids) == 4
    assert outbox_send().sent == 2
    mine = next(m for m in mail.outbox if m.to == [owner.email])
    assert mine.subject == "3 new notifications in the ALM Portal"
    assert all(f"Reminder {n}" in mine.body for n in range(3))
    assert sorted(int(pk) for pk in mine.extra_headers[ID_HEADER].split(",")) == sorted(ids[:3])


def test_it_skips_duplicates_in_one_bulk_insert(owner, django_assert_num_queries):
    messages = [Message([owner], "test", "Due", dedupe_key=f"review:{n}:2026-W48")
                for n in range(50)]
    assert len(notify_many(messages)) == 50
    with django_assert_num_queries(1):
        assert notify_many(messages) == []
    assert Notification.objects.count() == 50


def test_it_writes_no_email_for_a_person_without_an_address(db):
    nameless = make_user(email="")
    notify(users=[nameless], kind="test", subject="In-app only")
    assert Notification.objects.get().email_due_at is None
    assert outbox_send().sent == 0


def test_a_silent_mail_server_leaves_the_row_waiting_and_it_is_retried(owner, smtp):
    [note] = notify(users=[owner], kind="test", subject="Suspended")
    smtp.stalled = True
    run = outbox_send()
    assert (run.sent, run.failed, run.next_retry) == (0, 1, 30)
    note.refresh_from_db()
    assert note.emailed_at is None and note.email_attempts == 1 and note.email_error
    assert note.email_due_at > later(25)
    smtp.stalled = False
    assert outbox_send().sent == 0  # not before the backoff
    assert outbox_send(now=later(31)).sent == 1
    note.refresh_from_db()
    assert note.emailed_at is not None and smtp.notification_ids() == [note.pk]


def test_the_backoff_doubles_and_is_capped(owner, smtp):
    [note] = notify(users=[owner], kind="test", subject="Suspended")
    smtp.stalled = True
    delays = []
    for step in range(4):
        delays.append(outbox_send(now=later(200 * step)).next_retry)
    assert delays == [30, 60, 120, 120]
    note.refresh_from_db()
    assert note.email_attempts == 4


def test_a_claimed_row_is_not_sent_by_a_second_run_until_its_lease_ends(owner, settings):
    notify(users=[owner], kind="test", subject="Once")
    Notification.objects.update(email_due_at=timezone.now() - timedelta(seconds=1))
    from almportal.accounts.outbox import _claim

    assert len(_claim(Notification, timezone.now(), 10)) == 1  # a run that then died
    assert outbox_send().sent == 0
    assert outbox_send(now=later(settings.OUTBOX_LEASE_SECONDS + 1)).sent == 1
    assert len(mail.outbox) == 1


def test_it_queues_an_email_to_outside_addresses(db):
    email = email_queue(to=["ops@example.test", " ops@example.test", ""], subject="Retiring",
                        body="Soon")
    assert email.to == ["ops@example.test"] and mail.outbox == []
    assert outbox_send().sent == 1
    assert mail.outbox[0].to == ["ops@example.test"]
    email.refresh_from_db()
    assert email.emailed_at is not None and email.email_due_at is None
    assert email_queue(to=[], subject="Nobody", body="") is None
    assert OutgoingEmail.objects.count() == 1


def test_the_status_counts_waiting_and_failing_and_the_oldest(owner, other_owner, smtp):
    assert (outbox_status().waiting, outbox_status().oldest) == (0, None)
    notify(users=[owner, other_owner], kind="test", subject="x")
    smtp.stalled = True
    outbox_send()
    status = outbox_status()
    assert (status.waiting, status.failing, status.ok) == (2, 2, False)
    assert status.oldest == Notification.objects.earliest("created_at").created_at


def test_the_admin_home_shows_the_outbox(client, admin_user, owner, smtp):
    notify(users=[owner], kind="test", subject="x")
    smtp.stalled = True
    outbox_send()
    client.force_login(admin_user)
    html = client.get("/").content.decode()
    assert 'data-count="outbox_waiting">1<' in html
    assert 'data-count="outbox_failing">1<' in html and "Failing" in html
