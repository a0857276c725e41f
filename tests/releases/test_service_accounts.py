"""A CI service account granted "record evaluations" on one agent posts runs there, gets 404 on
every other agent and 403 on every other write; an admin mints its token through the API and
grants its rights through the API and the page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.accounts.roles import Role
from almportal.core.errors import DomainError, NotPermitted
from almportal.inventory import services as inventory
from almportal.inventory.models import Agent, AgentUserObjectPermission
from almportal.releases import services
from almportal.releases.models import EvaluationRun

from ..conftest import client_for
from ..factories import make_service_account, make_user
from .helpers import GOOD_METRICS, high_release, suite_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, compliance, delegate):
    release = high_release(owner, compliance, delegate)
    suite_for(release)
    return release


@pytest.fixture
def other_release(other_owner, compliance):
    return high_release(other_owner, compliance, make_user(Role.BUSINESS_OWNER))


@pytest.fixture
def ci(release):
    return make_service_account(release.agent, username="ci-pipeline")


@pytest.fixture
def ci_key(client, admin_user, ci):
    """The token an admin mints for the account over the API (write scope)."""
    client_for(client, admin_user)
    response = client.post("/api/v1/tokens/", {
        "name": "CI pipeline", "scopes": ["read", "write"], "user": ci.username,
        "expires_at": (timezone.now() + timedelta(days=30)).isoformat()},
        content_type="application/json")
    assert response.status_code == 201, response.json()
    client.logout()
    return response.json()["key"]


def _api(client, key, method, url, data=None):
    return getattr(client, method)(url, data, content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {key}")


def test_ci_posts_a_run_that_counts(client, release, ci_key):
    response = _api(client, ci_key, "post", "/api/v1/evaluation-runs/", {
        "release": release.pk, "suite": suite_for(release).pk, "metrics": GOOD_METRICS})
    assert response.status_code == 201, response.json()
    assert response.json()["passed"] is True
    assert services.release_gate(release).condition("evaluations").passed


def test_a_run_an_involved_person_records_does_not_count(release, owner):
    run = services.evaluation_run_record(actor=owner, release=release, suite=suite_for(release),
                                         metrics=GOOD_METRICS)
    missing = services.release_gate(release).condition("evaluations").missing
    assert missing[0] == "No evaluation run on this release's manifest that counts."
    assert f"run #{run.pk} was recorded by {owner}, who is the agent's business owner" in (
        missing[1])


def test_ci_gets_404_on_every_other_agent(client, other_release, ci_key):
    other = other_release.agent
    for url in (f"/api/v1/agents/{other.slug}/", f"/api/v1/releases/{other_release.pk}/",
                f"/api/v1/releases/{other_release.pk}/gate/",
                f"/api/v1/agents/{other.slug}/delegates/"):
        assert _api(client, ci_key, "get", url).status_code == 404, url
    assert _api(client, ci_key, "patch", f"/api/v1/agents/{other.slug}/",
                {"purpose": "Taken over"}).status_code == 404
    posted = _api(client, ci_key, "post", "/api/v1/evaluation-runs/", {
        "release": other_release.pk, "suite": suite_for(other_release).pk,
        "metrics": GOOD_METRICS})
    assert posted.status_code in (400, 404)
    assert not EvaluationRun.objects.filter(release=other_release).exists()


def test_ci_gets_403_on_every_other_write(client, release, ci, ci_key):
    agent = release.agent
    item = release.checklist_items.first()
    writes = [
        ("patch", f"/api/v1/agents/{agent.slug}/", {"purpose": "Rewritten by CI"}),
        ("post", f"/api/v1/agents/{agent.slug}/delegates/", {"user": ci.username}),
        ("put", f"/api/v1/agents/{agent.slug}/service-accounts/",
         {"account": ci.username, "rights": ["record_evaluations", "deploy_agent"]}),
        ("post", "/api/v1/releases/", {"agent": agent.slug, "components": {}}),
        ("post", f"/api/v1/releases/{release.pk}/submit/", {}),
        ("post", "/api/v1/evaluation-suites/", {
            "agent": agent.slug, "name": "ci-made", "dataset_ref": "s3://x",
            "dataset_version": "1", "metrics": ["groundedness"]}),
        ("post", "/api/v1/signoffs/", {"release": release.pk, "role": Role.COMPLIANCE,
                                       "decision": "approve"}),
        ("post", f"/api/v1/checklist-items/{item.pk}/evidence/",
         {"kind": "link", "url": "https://ci.example.test/run"}),
        ("patch", f"/api/v1/checklist-items/{item.pk}/", {"reviewer": "carla"}),
        ("post", f"/api/v1/agents/{agent.slug}/suspend/", {"reason": "CI"}),
    ]
    for method, url, data in writes:
        response = _api(client, ci_key, method, url, data)
        assert response.status_code == 403, (url, response.status_code, response.content)
    agent.refresh_from_db()
    assert agent.purpose != "Rewritten by CI"
    assert inventory.service_rights_of(agent, ci) == ["record_evaluations"]


def test_a_service_account_is_never_given_a_delegates_rights(release, owner, admin_user, ci):
    with pytest.raises(DomainError):
        inventory.agent_add_delegate(actor=owner, agent=release.agent, user=ci)
    assert not ci.has_perm("inventory.change_agent", Agent.objects.get(pk=release.agent_id))


def test_only_admins_grant_service_accounts_rights(release, owner, ci):
    with pytest.raises(NotPermitted):
        inventory.service_account_set_rights(actor=owner, agent=release.agent, account=ci,
                                             rights=["deploy_agent"])


def test_narrow_rights_go_to_service_accounts_only(release, admin_user, security):
    with pytest.raises(DomainError):
        inventory.service_account_set_rights(actor=admin_user, agent=release.agent,
                                             account=security, rights=["record_evaluations"])


def test_an_empty_list_takes_every_right_away(release, admin_user, ci):
    inventory.service_account_set_rights(actor=admin_user, agent=release.agent, account=ci,
                                         rights=[])
    assert not AgentUserObjectPermission.objects.filter(user=ci).exists()


def test_the_admin_sets_rights_through_the_api(client, release, admin_user, ci):
    client_for(client, admin_user)
    response = client.put(f"/api/v1/agents/{release.agent.slug}/service-accounts/",
                          {"account": ci.username, "rights": ["deploy_agent", "poll_runtime"]},
                          content_type="application/json")
    assert response.status_code == 200
    assert response.json() == [{"account": ci.username,
                                "rights": ["deploy_agent", "poll_runtime"]}]


def test_the_admin_sets_rights_through_the_page(client, release, admin_user, ci, owner):
    url = f"/agents/{release.agent.slug}/service-accounts/"
    client_for(client, admin_user)
    response = client.post(url, {"account": ci.pk, "rights": ["ingest_metrics"]}, follow=True)
    assert response.status_code == 200
    assert inventory.service_rights_of(release.agent, ci) == ["ingest_metrics"]
    client_for(client, owner)
    assert client.get(url).status_code == 200
    assert client.post(url, {"account": ci.pk, "rights": []}).status_code == 403
    assert inventory.service_rights_of(release.agent, ci) == ["ingest_metrics"]
