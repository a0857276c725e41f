"""The numbers each role's home page shows equal what the database holds, and the home and
portfolio pages run a number of queries that does not grow with the rows."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from almportal.accounts.roles import Role
from almportal.audit.models import LedgerEntry, LedgerHead
from almportal.core.models import Heartbeat
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent
from almportal.operations import services as operations
from almportal.operations.models import Incident
from almportal.portal import health
from almportal.releases import selectors as releases
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState
from almportal.releases.models import Release
from almportal.reviews.models import UNFINISHED_STATES, AccessReview

from ..factories import make_agent, make_release, make_user
from ..operations.helpers import Team

pytestmark = pytest.mark.django_db

HOME = reverse_lazy("portal:home")
PORTFOLIO = reverse_lazy("portal:portfolio")


def count(html: str, name: str) -> int:
    match = re.search(rf'data-count="{name}">(\d+)<', html)
    assert match, name
    return int(match.group(1))


def section(html: str, name: str) -> str:
    start = html.index(f'data-section="{name}"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def world(owner, compliance, django_capture_on_commit_callbacks):
    """A live agent with an approved release, one in sign-off, proposed intakes, incidents
    (one serious), and the ledger entries of it all."""
    with django_capture_on_commit_callbacks(execute=True):
        team = Team(owner, compliance)
        agent, release = team.live()
        pending = make_release(agent, actor=team.delegate)
        release_services.release_submit(actor=team.delegate, release=pending)
        make_agent(owner, Stage.PROPOSED, name="Proposed one")
        make_agent(make_user(Role.BUSINESS_OWNER), Stage.PROPOSED, name="Proposed two")
        operations.incident_open(actor=compliance, agent=agent, title="Wrong answers",
                                 severity="high")
        serious = operations.incident_open(actor=compliance, agent=agent, title="Harm",
                                           severity="critical")
        Incident.objects.filter(pk=serious.pk).update(
            serious=True, report_deadline=timezone.now() + timedelta(days=2))
    return team, agent


def test_compliance_counts_match_the_database(client, compliance, world):
    client.force_login(compliance)
    html = section(client.get(HOME).content.decode(), "compliance")
    assert count(html, "intakes") == Agent.objects.filter(stage=Stage.PROPOSED).count() == 2
    # The sign-offs compliance may give now, as releases.rules decides; not every release
    # under sign-off.
    assert Release.objects.filter(state=ReleaseState.SUBMITTED).count() == 1
    assert count(html, "signoffs") == len(
        releases.work_waiting_for(compliance).signoffs)
    assert count(html, "open_incidents") == Incident.objects.exclude(
        status="resolved").count() == 2
    assert count(html, "serious_unreported") == Incident.objects.filter(
        serious=True, reported_at__isnull=True).count() == 1
    assert count(html, "overdue_reviews") == AccessReview.objects.filter(
        state__in=UNFINISHED_STATES, due_at__lte=timezone.now()).count()
    assert "Harm" in html and "Wrong answers" in html


def test_the_owner_sees_only_their_own_numbers(client, owner, other_owner, world):
    make_agent(other_owner, Stage.IN_DEVELOPMENT, name="Someone else's")
    client.force_login(owner)
    html = section(client.get(HOME).content.decode(), "owner")
    assert count(html, "my_agents") == Agent.objects.filter(business_owner=owner).count()
    assert count(html, "owner_incidents") == Incident.objects.filter(
        agent__business_owner=owner).count()
    assert count(html, "owner_in_review") == 1
    assert "Someone else" not in html


def test_the_auditor_sees_the_ledger_and_exports(client, auditor, world):
    client.force_login(auditor)
    html = section(client.get(HOME).content.decode(), "auditor")
    assert count(html, "ledger_entries") == LedgerEntry.objects.count() > 0
    assert count(html, "head_seq") == LedgerHead.objects.get().seq
    assert LedgerHead.objects.get().hash in html
    assert "never run" in html


def test_the_admin_sees_system_health(client, admin_user, world):
    Heartbeat.objects.create(name=health.HEARTBEAT_TASK, last_seen_at=timezone.now(), runs=3)
    Heartbeat.objects.create(name="almportal.audit.tasks.ledger_catch_up",
                             last_seen_at=timezone.now() - timedelta(hours=1), runs=1)
    client.force_login(admin_user)
    html = client.get(HOME).content.decode()
    mine = section(html, "admin")
    assert "Worker and beat alive" in mine
    assert 'data-task="heartbeat" data-late="false"' in mine
    assert 'data-task="audit-ledger-catch-up" data-late="true"' in mine  # 1 h > 2 × 5 min
    assert count(mine, "late_tasks") == 1  # the others have not run yet: beat just started
    assert "Not run yet" in mine
    assert 'data-section="compliance"' in html and 'data-section="auditor"' in html


def test_it_flags_a_task_older_than_twice_its_interval():
    now = timezone.now()
    Heartbeat.objects.create(name="t.a", last_seen_at=now - timedelta(seconds=50))
    Heartbeat.objects.create(name="t.b", last_seen_at=now - timedelta(seconds=70))
    schedule = {"a": {"task": "t.a", "schedule": 30.0}, "b": {"task": "t.b", "schedule": 30.0},
                "c": {"task": "t.c", "schedule": 30.0}}
    found = {t.name: t.late for t in health.system_health(now=now, schedule=schedule).tasks}
    assert found == {"a": False, "b": True, "c": False}


def test_a_task_that_never_ran_is_late_only_once_beat_could_have_started_it():
    now = timezone.now()
    schedule = {"beat": {"task": health.HEARTBEAT_TASK, "schedule": 30.0},
                "hourly": {"task": "t.hourly", "schedule": 3600.0},
                "minutely": {"task": "t.minutely", "schedule": 60.0}}
    Heartbeat.objects.create(name=health.HEARTBEAT_TASK, first_seen_at=now - timedelta(minutes=5),
                             last_seen_at=now)
    tasks = {t.name: t for t in health.system_health(now=now, schedule=schedule).tasks}
    assert (tasks["hourly"].late, tasks["hourly"].status) == (False, "Not run yet")
    assert (tasks["minutely"].late, tasks["minutely"].status) == (True, "Late")
    assert tasks["beat"].status == "On time"


def test_it_accepts_an_intake_inline_with_htmx(client, compliance, world):
    agent = Agent.objects.get(name="Proposed two")
    client.force_login(compliance)
    url = reverse("portal:intake-accept", args=[agent.slug])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="intake-{agent.pk}"' in response.content.decode()
    assert "Accepted for development" in response.content.decode()
    assert "<html" not in response.content.decode()
    agent.refresh_from_db()
    assert agent.stage == Stage.IN_DEVELOPMENT


def test_it_accepts_an_intake_without_javascript(client, compliance, world):
    agent = Agent.objects.get(name="Proposed one")
    client.force_login(compliance)
    response = client.post(reverse("portal:intake-accept", args=[agent.slug]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    assert "accepted for development" in response.content.decode()
    agent.refresh_from_db()
    assert agent.stage == Stage.IN_DEVELOPMENT


def test_an_owner_cannot_accept_an_intake(client, owner, world):
    agent = Agent.objects.get(name="Proposed one")
    client.force_login(owner)
    response = client.post(reverse("portal:intake-accept", args=[agent.slug]))
    assert response.status_code in (403, 404)
    agent.refresh_from_db()
    assert agent.stage == Stage.PROPOSED


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _more_rows(owner, compliance, n=6):
    for i in range(n):
        make_agent(make_user(Role.BUSINESS_OWNER), Stage.PROPOSED, name=f"Intake {i}")
    agent = Agent.objects.filter(stage=Stage.LIVE).first()
    for i in range(n):
        operations.incident_open(actor=compliance, agent=agent, title=f"Incident {i}",
                                 severity="low")


@pytest.mark.parametrize("persona", ["compliance", "auditor", "admin_user", "security"])
@pytest.mark.parametrize("url", [HOME, PORTFOLIO])
def test_the_query_count_does_not_grow_with_rows(client, request, persona, url, owner,
                                                 compliance, world):
    client.force_login(request.getfixturevalue(persona))
    few = _queries(client, url)
    _more_rows(owner, compliance)
    assert _queries(client, url) == few


def test_the_owners_home_runs_the_same_queries_with_more_agents(client, owner, compliance,
                                                                world):
    from almportal.inventory import services as inventory

    from ..risk.helpers import assessed

    def stale_agent(name):
        agent = assessed(owner, compliance,
                         agent=make_agent(owner, Stage.IN_DEVELOPMENT, name=name)).agent
        inventory.agent_update(actor=owner, agent=agent, data={"audience": "public"})

    stale_agent("Stale one")
    client.force_login(owner)
    few = _queries(client, HOME)
    for i in range(4):
        stale_agent(f"Stale {i}")
        make_agent(owner, Stage.IN_DEVELOPMENT, name=f"Unassessed {i}")
        make_agent(owner, Stage.DRAFT, name=f"Draft {i}")
    page = client.get(HOME).content.decode()
    assert page.count("/risk/agents/stale-") == 5  # the five stale ones, in pending work
    assert _queries(client, HOME) == few


def test_the_admin_home_counts_the_fleet_by_stage_once(client, admin_user, world):
    """The admin sees the compliance and the auditor sections; both show the same counts."""
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(HOME).content.decode()
    by_stage = [q for q in captured.captured_queries
                if 'FROM "inventory_agent"' in q["sql"] and "GROUP BY" in q["sql"]]
    assert len(by_stage) == 1
    assert html.count('aria-label="Agents by stage"') == 2
