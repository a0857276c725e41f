"""The pages: wiring, permissions (another owner 404, an auditor 403 on writes) and queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from almportal.inventory.choices import Stage
from almportal.retirement.choices import TaskStatus
from almportal.retirement.models import DecommissionPlan, RetirementSignOff

from ..conftest import client_for
from ..factories import make_agent
from .conftest import do_every_task, start, task

pytestmark = pytest.mark.django_db


def test_the_agent_page_offers_to_start_sunsetting(client, dev_agent, owner, auditor):
    page = client_for(client, owner).get(dev_agent.get_absolute_url())
    assert b"Start sunsetting" in page.content
    client.force_login(auditor)
    assert b"Start sunsetting" not in client.get(dev_agent.get_absolute_url()).content


def test_starting_from_the_page_makes_the_plan(client, dev_agent, owner):
    response = client_for(client, owner).post(
        f"/retirement/agents/{dev_agent.slug}/start/",
        {"reason": "Superseded", "planned_date": timezone.localdate() + timedelta(days=10)})
    plan = DecommissionPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
    assert plan.tasks.count() == 7
    page = client.get(dev_agent.get_absolute_url())
    assert plan.get_absolute_url().encode() in page.content


def test_bad_input_shows_form_errors_and_writes_nothing(client, dev_agent, owner):
    response = client_for(client, owner).post(
        f"/retirement/agents/{dev_agent.slug}/start/",
        {"reason": "Superseded", "planned_date": "2001-01-01", "retention_until": "nonsense"})
    assert response.status_code == 200
    assert not DecommissionPlan.objects.exists()
    response = client.post(f"/retirement/agents/{dev_agent.slug}/start/",
                           {"reason": "Superseded", "planned_date": "2001-01-01"})
    assert b"cannot be in the past" in response.content
    assert not DecommissionPlan.objects.exists()


def test_the_start_page_refuses_outsiders(client, dev_agent, other_owner, auditor):
    client.force_login(other_owner)
    assert client.get(f"/retirement/agents/{dev_agent.slug}/start/").status_code == 404
    client.force_login(auditor)
    assert client.post(f"/retirement/agents/{dev_agent.slug}/start/",
                       {"reason": "x", "planned_date": "2099-01-01"}).status_code == 403
    assert not DecommissionPlan.objects.exists()


def test_the_plan_page_shows_tasks_and_what_is_missing(client, plan, owner):
    page = client_for(client, owner).get(plan.get_absolute_url())
    assert page.status_code == 200
    for each in plan.tasks.all():
        assert escape(each.title).encode() in page.content
    assert b"Sign-off missing: Compliance" in page.content
    assert b"Run<span" in page.content and b"Mark done" in page.content


def test_tasks_are_worked_from_the_page(client, plan, owner):
    client = client_for(client, owner)
    revoke, catalog = task(plan, "revoke_credentials"), task(plan, "update_catalog")
    assert client.post(f"/retirement/tasks/{revoke.pk}/run/").status_code == 302
    response = client.post(f"/retirement/tasks/{catalog.pk}/complete/", {"comment": ""})
    assert response.status_code == 302
    catalog.refresh_from_db()
    assert catalog.status == TaskStatus.TODO  # refused: a comment or evidence is needed
    client.post(f"/retirement/tasks/{catalog.pk}/complete/", {"comment": "Catalog updated"})
    revoke.refresh_from_db()
    catalog.refresh_from_db()
    assert revoke.status == catalog.status == TaskStatus.DONE


def test_retiring_from_the_page_names_what_is_missing(client, plan, owner):
    response = client_for(client, owner).post(f"/retirement/plans/{plan.pk}/retire/",
                                              follow=True)
    assert b"Sign-off missing: Business owner" in response.content
    assert escape("Task not done: Notify the agent's users and contacts").encode() in \
        response.content
    plan.agent.refresh_from_db()
    assert plan.agent.stage == Stage.SUNSETTING


def test_signing_and_retiring_from_the_pages(client, plan, owner, compliance):
    do_every_task(plan, owner, compliance)
    client_for(client, owner).post(f"/retirement/plans/{plan.pk}/signoff/", {"role": "owner"})
    client.force_login(compliance)
    client.post(f"/retirement/plans/{plan.pk}/signoff/", {"role": "compliance"})
    assert RetirementSignOff.objects.filter(plan=plan).count() == 2
    client.post(f"/retirement/plans/{plan.pk}/retire/", {"reason": "Done"})
    plan.agent.refresh_from_db()
    assert plan.agent.stage == Stage.RETIRED
    assert b"Retired on" in client.get(plan.agent.get_absolute_url()).content


def _object_urls(plan):
    one = task(plan, "update_catalog")
    reads = [plan.get_absolute_url()]
    writes = [(f"/retirement/tasks/{one.pk}/complete/", {"comment": "x"}),
              (f"/retirement/tasks/{task(plan, 'revoke_credentials').pk}/run/", {}),
              (f"/retirement/tasks/{one.pk}/assign/", {"assignee": plan.started_by_id}),
              (f"/retirement/plans/{plan.pk}/signoff/", {"role": "compliance"}),
              (f"/retirement/plans/{plan.pk}/retire/", {})]
    return reads, writes


def test_another_owner_gets_404_everywhere(client, plan, other_owner):
    client.force_login(other_owner)
    reads, writes = _object_urls(plan)
    for url in reads:
        assert client.get(url).status_code == 404
    for url, data in writes:
        assert client.post(url, data).status_code == 404, url


def test_an_auditor_reads_but_every_write_is_403(client, plan, auditor):
    client.force_login(auditor)
    reads, writes = _object_urls(plan)
    for url in reads:
        assert client.get(url).status_code == 200
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    assert not plan.tasks.filter(status=TaskStatus.DONE).exists()
    assert not plan.signoffs.exists()


def test_the_plan_list_does_not_grow_in_queries_with_rows(client, owner, compliance):
    client.force_login(compliance)
    start(make_agent(owner, Stage.IN_DEVELOPMENT))
    with CaptureQueriesContext(connection) as few:
        assert client.get("/retirement/").status_code == 200
    for _ in range(4):
        start(make_agent(owner, Stage.IN_DEVELOPMENT))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/retirement/")
    assert response.content.count(b"/retirement/plans/") == 5
    assert len(many) == len(few)


def test_the_plan_page_does_not_grow_in_queries_with_tasks_done(client, plan, owner,
                                                                compliance):
    client.force_login(owner)
    with CaptureQueriesContext(connection) as before:
        client.get(plan.get_absolute_url())
    do_every_task(plan, owner, compliance)
    with CaptureQueriesContext(connection) as after:
        client.get(plan.get_absolute_url())
    assert len(after) <= len(before) + 1  # the archive's row
