"""Done when 4: late decommission tasks are reminded, once per task per period; "My work"
lists the tasks and sign-offs waiting."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from almportal.accounts.models import Notification
from almportal.accounts.outbox import outbox_send
from almportal.retirement.selectors import late_tasks
from almportal.reviews import reminders
from almportal.reviews.work import sections_for

from .conftest import do_every_task, task

KIND = "decommission-task-late"

pytestmark = pytest.mark.django_db


def scan(now, capture) -> int:
    with capture(execute=True):
        return reminders.reminders_send(now=now, only=[KIND]).sent[KIND]


def test_it_is_registered():
    assert KIND in {kind.name for kind in reminders.kinds()}


def test_a_late_task_is_reminded_once_per_period(plan, owner,
                                                 django_capture_on_commit_callbacks):
    catalog = task(plan, "update_catalog")
    after_due = timezone.now() + timedelta(days=(catalog.due_date - timezone.localdate()).days + 1)
    assert scan(timezone.now(), django_capture_on_commit_callbacks) == 0  # nothing late yet
    mail.outbox.clear()
    assert scan(after_due, django_capture_on_commit_callbacks) >= 1
    assert scan(after_due, django_capture_on_commit_callbacks) == 0
    sent = Notification.objects.filter(kind=KIND, user=owner,
                                       url=catalog.get_absolute_url())
    assert sent.count() == 1
    outbox_send()
    # several late tasks reach the owner as one digest
    assert len([m for m in mail.outbox if catalog.title in f"{m.subject}\n{m.body}"]) == 1
    assert scan(after_due + timedelta(days=7), django_capture_on_commit_callbacks) >= 1
    assert sent.count() == 2  # the next week reminds again


def test_done_tasks_and_retired_plans_are_not_late(plan, owner, compliance):
    later = timezone.localdate() + timedelta(days=60)
    assert late_tasks(later).count() == 7
    do_every_task(plan, owner, compliance)
    assert late_tasks(later).count() == 0


def test_the_scan_runs_in_a_fixed_number_of_queries(plan, django_assert_max_num_queries):
    later = timezone.localdate() + timedelta(days=60)
    with django_assert_max_num_queries(1):
        assert len(list(late_tasks(later))) == 7


def test_my_work_lists_tasks_and_sign_offs_waiting(plan, owner, compliance):
    titles = {s.title: s for s in sections_for(owner)}
    assert task(plan, "revoke_credentials").title in " ".join(
        i.label for i in titles["Decommission tasks"].items)
    assert "Retirement sign-offs waiting" not in titles
    do_every_task(plan, owner, compliance)
    for person in (owner, compliance):
        titles = {s.title: s for s in sections_for(person)}
        assert [i.label for i in titles["Retirement sign-offs waiting"].items] == [
            f"Sign the retirement of {plan.agent}"]
