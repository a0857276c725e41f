"""System health over the API: what the admin's home page shows, for monitoring systems to
poll, to admins only, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from almportal.accounts.models import OutgoingEmail, TokenScope
from almportal.core.models import Heartbeat
from almportal.portal import health

from ..operations.helpers import token_client
from ..operations.test_api import api

pytestmark = pytest.mark.django_db

URL = "/api/v1/health/"
CATCH_UP = "almportal.audit.tasks.ledger_catch_up"


def beat_alive(ledger_late: bool = True) -> None:
    now = timezone.now()
    Heartbeat.objects.create(name=health.HEARTBEAT_TASK, last_seen_at=now, runs=3)
    Heartbeat.objects.create(name=CATCH_UP, runs=1,
                             last_seen_at=now - timedelta(hours=1 if ledger_late else 0))


def queue_email(attempts: int = 0) -> OutgoingEmail:
    return OutgoingEmail.objects.create(to=["team@example.com"], subject="Notice",
                                        email_due_at=timezone.now(), email_attempts=attempts)


def test_it_answers_the_tasks_the_heartbeat_and_the_outbox(admin_user):
    beat_alive()
    queue_email()
    queue_email(attempts=2)
    answer = token_client(admin_user, TokenScope.READ).get(URL)
    assert answer.status_code == 200, answer.json()
    shown = answer.json()
    tasks = {t["name"]: t for t in shown["tasks"]}
    assert tasks["heartbeat"]["late"] is False and tasks["heartbeat"]["runs"] == 3
    assert tasks["audit-ledger-catch-up"]["status"] == "Late"
    assert tasks["audit-ledger-catch-up"]["interval_seconds"] == 300
    assert shown["heartbeat"]["task"] == health.HEARTBEAT_TASK
    assert shown["alive"] is True
    assert shown["ok"] is False and shown["late_tasks"] == 1
    outbox = shown["outbox"]
    assert outbox["waiting"] >= 2 and outbox["failing"] == 1 and outbox["ok"] is False


def test_it_is_ok_when_no_task_is_late(admin_user):
    beat_alive(ledger_late=False)
    shown = api(admin_user).get(URL).json()
    assert shown["ok"] is True and shown["late_tasks"] == 0 and shown["alive"] is True


def test_a_failing_email_is_not_ok(admin_user):
    beat_alive(ledger_late=False)
    queue_email(attempts=1)
    shown = api(admin_user).get(URL).json()
    assert shown["outbox"]["ok"] is False and shown["late_tasks"] == 0
    assert shown["ok"] is False


def test_it_says_the_worker_is_not_alive_before_the_first_heartbeat(admin_user):
    shown = api(admin_user).get(URL).json()
    assert shown["alive"] is False and shown["heartbeat"]["last_run"] is None
    assert shown["ok"] is False and shown["late_tasks"] == 0
    assert shown["heartbeat"]["status"] == "Not run yet"


@pytest.mark.parametrize("persona", ["owner", "compliance", "security", "auditor"])
def test_it_refuses_every_role_but_admin(request, persona):
    answer = api(request.getfixturevalue(persona)).get(URL)
    assert answer.status_code == 403 and "admins" in answer.json()["detail"]


def test_it_needs_credentials():
    assert api(None).get(URL).status_code == 401


def test_it_agrees_with_the_admin_home_page(client, admin_user):
    beat_alive()
    client.force_login(admin_user)
    html = client.get(reverse("portal:home")).content.decode()
    shown = api(admin_user).get(URL).json()
    for task in shown["tasks"]:
        late = "true" if task["late"] else "false"
        assert f'data-task="{task["name"]}" data-late="{late}"' in html
    assert f'data-count="late_tasks">{shown["late_tasks"]}<' in html
    assert f'data-count="outbox_waiting">{shown["outbox"]["waiting"]}<' in html
    assert ("Worker and beat alive" in html) is shown["alive"]


def test_system_health_runs_three_queries_whatever_the_rows():
    with CaptureQueriesContext(connection) as few:
        health.system_health()
    beat_alive()
    for attempts in range(5):
        queue_email(attempts)
    with CaptureQueriesContext(connection) as many:
        health.system_health()
    assert len(few) == len(many) == 3


def test_the_api_runs_the_same_queries_for_more_rows(admin_user):
    client = token_client(admin_user, TokenScope.READ)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    beat_alive()
    for attempts in range(5):
        queue_email(attempts)
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(few) == len(many)
