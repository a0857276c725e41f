"""Done when 1 and 2 of the outbox, with a live worker on Redis and a loopback mail server:
a suspension never waits on a silent mail server, and killing the worker mid-send loses and
duplicates nothing."""

import os
import signal
import time

import pytest
from django.db import connection

from almportal.accounts.models import Notification
from almportal.accounts.notifications import Message, notify_many
from almportal.inventory.choices import Stage

from ..factories import make_agent, make_user
from ..reviews.test_worker import base_env, database_url, running_worker
from ..smtp_server import LoopbackSMTP

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 60


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url or connection.vendor != "postgresql":
        reason = "needs REDIS_URL and PostgreSQL (a database the worker process can reach)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"In CI this test must run: it {reason}.")
        pytest.skip(reason)
    from almportal.celery import app

    app.control.purge()  # nothing left over from another run reaches this database
    return url


@pytest.fixture
def smtp():
    server = LoopbackSMTP()
    yield server
    server.close()


def worker_env(tmp_path, redis_url: str, smtp: LoopbackSMTP, **extra: str) -> dict:
    return base_env(tmp_path, **{
        "REDIS_URL": redis_url, "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port), "EMAIL_TIMEOUT": "1",
        "OUTBOX_RETRY_SECONDS": "1", "OUTBOX_RETRY_MAX_SECONDS": "2", **extra})


def wait_until(condition, what: str, worker=None, extra=lambda: "") -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"The worker exited ({worker.returncode}) while waiting for {what}.")
        time.sleep(0.2)
    pytest.fail(f"Not within {TIMEOUT} s: {what}.{extra()}")


def test_a_suspension_answers_at_once_and_is_emailed_when_the_server_recovers(
        client, owner, security, redis_url, smtp, tmp_path):
    agent = make_agent(owner, stage=Stage.LIVE)
    smtp.stalled = True  # accepts connections, never answers
    log = tmp_path / "worker.log"
    with running_worker(worker_env(tmp_path, redis_url, smtp), log) as worker:
        client.force_login(security)
        client.get(f"/operations/agents/{agent.slug}/kill-switch/")  # a warm process
        wait_until(lambda: "ready." in log.read_text(), "the worker to start", worker)
        started = time.monotonic()
        response = client.post(f"/operations/agents/{agent.slug}/suspend/",
                               {"reason": "Leaking internal notes"})
        assert time.monotonic() - started < 1.0
        assert response.status_code == 302
        note = Notification.objects.get(user=owner, kind="agent-suspended")
        wait_until(lambda: Notification.objects.get(pk=note.pk).email_attempts >= 1,
                   "a failed try against the silent server", worker)
        assert Notification.objects.get(pk=note.pk).emailed_at is None
        smtp.stalled = False
        wait_until(lambda: Notification.objects.get(pk=note.pk).emailed_at is not None,
                   "the e-mail once the server answers", worker)
    assert smtp.notification_ids() == [note.pk]


def test_killing_the_worker_mid_send_emails_every_notification_exactly_once(
        redis_url, smtp, tmp_path):
    from almportal.accounts.tasks import outbox_send

    people = [make_user() for _ in range(30)]
    ids = notify_many([Message([person], "test", f"Reminder for {person}") for person in people])
    smtp.stall_after = 10
    # A long timeout: the worker is surely still waiting for the server's answer when killed.
    env = worker_env(tmp_path, redis_url, smtp, EMAIL_TIMEOUT="60", OUTBOX_LEASE_SECONDS="3")
    with running_worker(env, tmp_path / "first.log") as worker:
        outbox_send.delay()
        wait_until(lambda: len(smtp.received) == 10 and smtp.held == 1,
                   "ten e-mails accepted and the eleventh in flight", worker,
                   lambda: f" {len(smtp.received)} accepted, {smtp.held} held; "
                           f"{(tmp_path / 'first.log').read_text()[-3000:]}")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    smtp.stall_after, smtp.stalled = None, False
    with running_worker(env, tmp_path / "second.log") as worker:
        def all_emailed() -> bool:
            outbox_send.delay()  # what beat does every minute
            return not Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).exists()

        wait_until(all_emailed, "every notification e-mailed", worker)
    assert sorted(smtp.notification_ids()) == sorted(ids)
