"""Pages compute per page, not per fleet: the queries they run and the rows their Python code
reads stay the same whether the user sees a few dozen agents or a hundred more."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from almportal.core import lists
from almportal.inventory import choices
from almportal.inventory import selectors as inventory_selectors
from almportal.inventory import services as inventory
from almportal.inventory.models import Agent, AgentUserObjectPermission, Credential
from almportal.releases.choices import ReleaseState
from almportal.releases.models import Release
from almportal.risk import selectors as risk

from ..factories import make_agent

pytestmark = pytest.mark.django_db
SHOWN = 3


@pytest.fixture(autouse=True)
def short_lists(monkeypatch):
    monkeypatch.setattr(lists, "SHORTLIST", SHOWN)


def add_agents(owner, count: int) -> None:
    """`count` more agents of the owner's, in every stage, each with an expiring standing
    grant, every third with a release in sign-off: more than a shortlist of everything."""
    start = Agent.objects.count()
    stages, now = list(choices.Stage), timezone.now()
    agents = Agent.objects.bulk_create([
        Agent(name=f"Fleet {n:04d}", slug=f"fleet-{n:04d}", purpose="p", why_agent="w",
              business_owner=owner, created_by=owner, business_unit="Sales",
              intended_users="Staff", audience=choices.Audience.INTERNAL,
              autonomy_level=choices.AutonomyLevel.SUGGEST_ONLY,
              data_classification=choices.DataClassification.INTERNAL,
              action_reach=choices.ActionReach.READ_ONLY, stage=stages[n % len(stages)])
        for n in range(start, start + count)])
    permissions = Permission.objects.filter(content_type__app_label="inventory",
                                            codename__in=("view_agent", "change_agent"))
    AgentUserObjectPermission.objects.bulk_create([
        AgentUserObjectPermission(content_object=a, user=owner, permission=p)
        for a in agents for p in permissions])
    Credential.objects.bulk_create([
        Credential(agent=a, name="svc", version=1, created_by=owner, identity="svc",
                   granted_by="IT", expires_at=now + timedelta(days=3)) for a in agents])
    Release.objects.bulk_create([
        Release(agent=a, number=1, state=ReleaseState.SUBMITTED, created_by=owner,
                manifest_hash=f"{a.pk:064d}", submitted_by=owner, submitted_at=now)
        for a in agents[::3]])


def page_work(client, path: str) -> tuple[int, int]:
    """(queries, model instances built) for one request."""
    built = []

    def count(sender, **kwargs):
        built.append(sender)

    post_init.connect(count)
    try:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
    finally:
        post_init.disconnect(count)
    return len(queries), len(built)


@pytest.mark.parametrize("persona", ["owner", "compliance", "security", "auditor",
                                     "admin_user"])
@pytest.mark.parametrize("path", ["portal:home", "portal:portfolio", "inventory:agent-list"])
def test_it_reads_the_same_rows_for_a_larger_fleet(client, owner, persona, path, request):
    client.force_login(request.getfixturevalue(persona))
    add_agents(owner, 40)
    client.get(reverse(path))  # warm: the user's roles and permissions
    before = page_work(client, reverse(path))
    add_agents(owner, 120)
    assert page_work(client, reverse(path)) == before


def test_it_builds_risk_statuses_for_the_shown_agents_only(client, owner, monkeypatch):
    add_agents(owner, 60)
    calls = []
    real = risk.assessment_status
    monkeypatch.setattr(risk, "assessment_status",
                        lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    client.force_login(owner)
    html = client.get(reverse("portal:home")).content.decode()
    assert 0 < len(calls) <= SHOWN
    assert "more" in html


def test_it_lists_a_stale_assessment_from_the_derived_column(owner, compliance):
    from almportal.risk.selectors import assessments_needing_attention

    from ..risk.helpers import assessed

    agent = make_agent(owner, choices.Stage.IN_DEVELOPMENT)
    assessed(owner, compliance, agent=agent)
    assert [s.agent for s in assessments_needing_attention(owner)] == []
    inventory.agent_update(actor=owner, agent=agent,
                           data={"autonomy_level": choices.AutonomyLevel.FULLY_AUTONOMOUS},
                           reason="More autonomy")
    [status] = assessments_needing_attention(owner)
    assert status.agent == agent and status.is_stale


def test_the_agent_page_reads_a_bounded_history(client, owner, monkeypatch):
    monkeypatch.setattr(inventory_selectors, "HISTORY_SHOWN", 5)
    agent = make_agent(owner)
    client.force_login(owner)
    url = agent.get_absolute_url()

    def edit(times: int) -> None:
        for n in range(times):
            inventory.agent_update(actor=owner, agent=agent, data={"business_unit": f"U{n}"},
                                   reason="Edit")

    edit(30)
    client.get(url)
    before = page_work(client, url)
    edit(30)
    assert page_work(client, url) == before


@pytest.mark.parametrize("persona", ["owner", "compliance", "security", "admin_user"])
def test_my_work_reads_the_same_rows_for_a_larger_fleet(client, owner, persona, request,
                                                       monkeypatch):
    from almportal.reviews import views as review_views

    monkeypatch.setattr(review_views, "WORK_SHOWN", SHOWN)
    client.force_login(request.getfixturevalue(persona))
    path = reverse("reviews:my-work")
    add_agents(owner, 40)
    client.get(path)
    before = page_work(client, path)
    add_agents(owner, 120)
    assert page_work(client, path) == before


def test_the_home_page_asks_the_signing_rule_for_the_shown_releases_only(
        client, owner, compliance, monkeypatch):
    """Sign-offs waiting are counted in the database; releases.rules is asked for the roles
    of the shortlist's releases only, and the per-agent dormancy walk is not run at all."""
    from almportal.releases import selectors as releases
    from almportal.reviews import selectors as reviews

    add_agents(owner, 60)
    Agent.objects.update(risk_tier=choices.RiskTier.MEDIUM)  # compliance signs medium tiers
    asked = []
    real = releases.signing_facts_of
    monkeypatch.setattr(releases, "signing_facts_of",
                        lambda rows: asked.extend(rows) or real(rows))
    monkeypatch.setattr(reviews, "dormant_agents", lambda **kwargs: pytest.fail("walked"))
    client.force_login(compliance)
    html = client.get(reverse("portal:home")).content.decode()
    waiting = Release.objects.filter(state=ReleaseState.SUBMITTED).count()
    assert waiting > SHOWN
    assert f'data-work="releases-signoffs">{waiting}<' in html
    assert 0 < len(asked) <= SHOWN
