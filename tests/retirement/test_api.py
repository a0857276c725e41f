"""The API: same services, same permission layer, errors as JSON with field messages."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.inventory.choices import Stage
from almportal.retirement.choices import TaskStatus
from almportal.retirement.models import DecommissionPlan

from .conftest import do_every_task, task

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def planned() -> str:
    return (timezone.localdate() + timedelta(days=20)).isoformat()


def test_it_starts_sunsetting_and_returns_the_full_plan(dev_agent, owner):
    response = api(owner).post("/api/v1/decommission-plans/", {
        "agent": dev_agent.slug, "reason": "Superseded", "planned_date": planned(),
        "contact_emails": "ops@example.test"}, format="json")
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["agent"] == dev_agent.slug and body["state"] == "open"
    assert len(body["tasks"]) == 7
    assert "Sign-off missing: Compliance" in body["missing"]
    dev_agent.refresh_from_db()
    assert dev_agent.stage == Stage.SUNSETTING


@pytest.mark.parametrize("data, field", [
    ({"reason": "x", "planned_date": "2001-01-01"}, "planned_date"),
    ({"reason": "x", "planned_date": "soon"}, "planned_date"),
    ({"planned_date": "2099-01-01"}, "reason"),
    ({"reason": "x", "planned_date": "2099-01-01", "stage": "retired"}, "stage"),
    ({"reason": "x", "planned_date": "2099-01-01", "contact_users": ["nobody"]}, "contact_users"),
])
def test_bad_input_is_a_400_with_field_errors(dev_agent, owner, data, field):
    response = api(owner).post("/api/v1/decommission-plans/", {"agent": dev_agent.slug, **data},
                               format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not DecommissionPlan.objects.exists()


def test_an_agent_you_cannot_see_reads_as_unknown(dev_agent, other_owner):
    response = api(other_owner).post("/api/v1/decommission-plans/", {
        "agent": dev_agent.slug, "reason": "x", "planned_date": planned()}, format="json")
    assert response.status_code == 400 and "agent" in response.json()["errors"]


def test_retire_is_a_409_naming_what_is_missing(plan, owner):
    response = api(owner).post(f"/api/v1/decommission-plans/{plan.pk}/retire/", {},
                               format="json")
    assert response.status_code == 409
    errors = response.json()["errors"]["non_field_errors"]
    assert "Sign-off missing: Business owner" in errors
    assert "Task not done: Revoke every credential and grant" in errors


def test_tasks_sign_offs_and_retirement_over_the_api(plan, owner, compliance):
    client = api(owner)
    revoke = task(plan, "revoke_credentials")
    ran = client.post(f"/api/v1/decommission-tasks/{revoke.pk}/run/")
    assert ran.status_code == 200 and ran.json()["status"] == "done"
    assert len(ran.json()["proof"]["revoked"]) == 2
    catalog = task(plan, "update_catalog")
    bad = client.post(f"/api/v1/decommission-tasks/{catalog.pk}/complete/",
                      {"evidence_sha256": "xyz"}, format="json")
    assert bad.status_code == 400 and "evidence_sha256" in bad.json()["errors"]
    done = client.post(f"/api/v1/decommission-tasks/{catalog.pk}/complete/",
                       {"comment": "Catalog updated", "evidence_url": "https://x.test/1"},
                       format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    do_every_task(plan, owner, compliance)
    assert client.post(f"/api/v1/decommission-plans/{plan.pk}/signoffs/",
                       {"role": "compliance"}, format="json").status_code == 403
    assert client.post(f"/api/v1/decommission-plans/{plan.pk}/signoffs/",
                       {"role": "owner"}, format="json").status_code == 201
    assert api(compliance).post(f"/api/v1/decommission-plans/{plan.pk}/signoffs/",
                                {"role": "compliance"}, format="json").status_code == 201
    retired = client.post(f"/api/v1/decommission-plans/{plan.pk}/retire/", {}, format="json")
    assert retired.status_code == 200 and retired.json()["state"] == "retired"
    assert retired.json()["missing"] == []


def _object_urls(plan):
    one = task(plan, "update_catalog")
    reads = [f"/api/v1/decommission-plans/{plan.pk}/", f"/api/v1/decommission-tasks/{one.pk}/"]
    writes = [(f"/api/v1/decommission-tasks/{one.pk}/complete/", {"comment": "x"}),
              (f"/api/v1/decommission-tasks/{task(plan, 'revoke_credentials').pk}/run/", {}),
              (f"/api/v1/decommission-tasks/{one.pk}/assign/",
               {"assignee": plan.started_by.username}),
              (f"/api/v1/decommission-plans/{plan.pk}/signoffs/", {"role": "compliance"}),
              (f"/api/v1/decommission-plans/{plan.pk}/retire/", {})]
    return reads, writes


def test_another_owner_gets_404(plan, other_owner):
    client = api(other_owner)
    reads, writes = _object_urls(plan)
    for url in reads:
        assert client.get(url).status_code == 404
    for url, data in writes:
        assert client.post(url, data, format="json").status_code == 404, url
    assert client.get("/api/v1/decommission-plans/").json()["results"] == []


def test_an_auditor_reads_and_is_refused_every_write(plan, auditor):
    client = api(auditor)
    reads, writes = _object_urls(plan)
    for url in reads:
        assert client.get(url).status_code == 200
    for url, data in writes:
        assert client.post(url, data, format="json").status_code == 403, url
    assert not plan.tasks.filter(status=TaskStatus.DONE).exists()
