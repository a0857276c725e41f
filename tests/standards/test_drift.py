"""Drift watch: a live card that gains a skill or tool, or changes its endpoint or auth, opens
one finding, makes the risk assessment stale and voids pending sign-offs; a description that
reads differently is shown and nothing more."""

import pytest

from almportal.accounts.roles import Role
from almportal.core.errors import DomainError
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage, ToolKind
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState
from almportal.releases.models import SignOff
from almportal.risk.selectors import assessment_status
from almportal.standards import exports, services
from almportal.standards.models import DriftFinding, FindingState

from ..conftest import client_for
from ..factories import make_agent, make_user
from ..releases.helpers import sign
from ..risk.helpers import assessed
from .conftest import approved_release, server_json

pytestmark = pytest.mark.django_db

NEW_SKILL = {"id": "cancel-trip", "name": "Cancel trip", "description": "Cancels a trip.",
             "tags": ["travel"]}


@pytest.fixture
def team(owner, compliance, security):
    """A deployed release, a current high-tier assessment, and a newer release under review
    with a security sign-off given."""
    delegate = make_user(Role.BUSINESS_OWNER, username="dana")
    agent = make_agent(owner, Stage.IN_DEVELOPMENT, name="Travel booker")
    inventory.agent_add_delegate(actor=owner, agent=agent, user=delegate)
    assessed(owner, compliance, agent=agent, tier="high", justification="Books travel")
    approved = approved_release(owner, agent=agent)  # read-only tools: still current
    # In production (as the operations area records a deployment): a newer request leaves it.
    approved = release_services.release_set_state(actor=owner, release=approved,
                                           state=ReleaseState.DEPLOYED, reason="Deployed")
    pending = release_services.release_create(
        actor=owner, agent=agent, label="1.3.0",
        configuration={**approved.configuration, "limits": {"tokens": 2000}},
        components={kind: [c["id"] for c in entries]
                    for kind, entries in approved.manifest["components"].items()})
    pending = release_services.release_submit(actor=delegate, release=pending)
    sign(pending, security, Role.SECURITY)
    return agent, approved, pending


def watch_of(agent, served, document, kind="a2a_card"):
    served.put("/card.json", document)
    return services.watch_add(actor=agent.business_owner, agent=agent, kind=kind,
                              url=served.base + "/card.json")


def live_signoffs(release):
    return SignOff.objects.filter(release=release, voided_at__isnull=True)


def test_a_served_card_that_gains_a_skill_opens_one_finding_and_acts(team, served):
    agent, approved, pending = team
    assert assessment_status(agent).is_current and live_signoffs(pending).exists()
    card = exports.card_content(approved)
    watch = watch_of(agent, served, {**card, "skills": [*card["skills"], NEW_SKILL]})
    finding = services.watch_poll(watch)
    assert finding is not None and finding.release == approved
    assert [d["subject"] for d in finding.differences] == ["cancel-trip"]
    status = assessment_status(agent)
    assert status.is_stale
    assert any("differs from its approved manifest" in r for r in status.reasons)
    assert not live_signoffs(pending).exists()
    assert SignOff.objects.filter(release=pending, voided_at__isnull=False).exists()
    approved.refresh_from_db()
    assert approved.state == ReleaseState.DEPLOYED  # serving until another takes its place
    assert finding.history.first().history_user.username != agent.business_owner.username

    assert services.watch_poll(watch) is None  # unchanged: 304, nothing more
    assert DriftFinding.objects.count() == 1


def test_the_same_drift_polled_again_opens_no_second_finding(team, served):
    agent, approved, _ = team
    card = exports.card_content(approved)
    watch = watch_of(agent, served, {**card, "skills": [*card["skills"], NEW_SKILL]})
    services.watch_poll(watch)
    served.put("/card.json", {**card, "skills": [*card["skills"], NEW_SKILL],
                              "description": "Reworded"})
    watch.refresh_from_db()
    assert services.watch_poll(watch) is None
    assert DriftFinding.objects.count() == 1


def test_polls_send_the_etag_and_a_304_changes_nothing(team, served):
    agent, approved, _ = team
    watch = watch_of(agent, served, exports.card_content(approved))
    services.watch_poll(watch)
    watch.refresh_from_db()
    assert watch.etag
    before = watch.history.count()
    services.watch_poll(watch)
    watch.refresh_from_db()
    assert watch.history.count() == before and watch.last_error == ""


def test_a_changed_description_is_shown_only(team, served, client):
    agent, approved, pending = team
    card = exports.card_content(approved)
    watch = watch_of(agent, served, {**card, "description": "Books any travel, anywhere."})
    assert services.watch_poll(watch) is None
    assert not DriftFinding.objects.exists()
    watch.refresh_from_db()
    assert [d["subject"] for d in watch.cosmetic] == ["description"]
    assert assessment_status(agent).is_current
    assert live_signoffs(pending).exists()
    client_for(client, agent.business_owner)
    for url in (f"/standards/agents/{agent.slug}/watches/", agent.get_absolute_url()):
        assert "The description differs." in client.get(url).content.decode()


@pytest.mark.parametrize("change", ["endpoint", "auth"])
def test_a_changed_endpoint_or_auth_scheme_is_material(team, served, change):
    agent, approved, _ = team
    card = exports.card_content(approved)
    if change == "endpoint":
        card["supportedInterfaces"] = [{**card["supportedInterfaces"][0],
                                        "url": "https://elsewhere.example.test/a2a"}]
    else:
        card["securitySchemes"] = {"apiKey": {"apiKeySecurityScheme": {
            "location": "query", "name": "key"}}}
    finding = services.watch_poll(watch_of(agent, served, card))
    assert finding is not None
    assert finding.differences[0]["subject"] in ("endpoint", "auth:apiKey")


def test_an_mcp_server_card_that_gains_a_tool_is_drift(owner, served):
    approved = approved_release(owner)
    agent = approved.agent
    document = server_json()
    tool = inventory.component_add_version(
        actor=owner, agent=agent, kind="tools",
        data={"name": document["name"], "tool_kind": ToolKind.MCP_SERVER,
              "endpoint": "https://mcp.example.test/calendar",
              "operations": ["list_rooms", "book_room"], "writes": True})
    nxt = release_services.release_create(actor=owner, agent=agent, components={
        **{k: [c["id"] for c in v] for k, v in approved.manifest["components"].items()},
        "tools": [*(c["id"] for c in approved.manifest["components"]["tools"]), tool.pk]},
        configuration=approved.configuration)
    nxt = release_services.release_submit(actor=owner, release=nxt)
    release_services.release_set_state(actor=owner, release=nxt, state=ReleaseState.APPROVED,
                                reason="Gate holds")
    watch = watch_of(agent, served, document, kind="mcp_server")
    assert services.watch_poll(watch) is None  # as approved
    meta = document["_meta"]["io.modelcontextprotocol.registry/publisher-provided"]
    meta["tools"].append({"name": "delete_room"})
    served.put("/card.json", document)
    watch.refresh_from_db()
    finding = services.watch_poll(watch)
    assert finding is not None and finding.differences[0]["subject"] == "delete_room"


def test_an_unreachable_card_is_recorded_not_acted_on(team, served):
    agent, _, _ = team
    watch = services.watch_add(actor=agent.business_owner, agent=agent, kind="a2a_card",
                               url=served.base + "/gone.json")
    assert services.watch_poll(watch) is None
    watch.refresh_from_db()
    assert "404" in watch.last_error


def test_closing_a_finding_needs_an_independent_reviewer_and_a_reason(team, served,
                                                                      compliance):
    agent, approved, _ = team
    card = exports.card_content(approved)
    finding = services.watch_poll(watch_of(agent, served,
                                           {**card, "skills": [*card["skills"], NEW_SKILL]}))
    with pytest.raises(DomainError):
        services.finding_close(actor=agent.business_owner, finding=finding, reason="fine")
    with pytest.raises(DomainError) as caught:
        services.finding_close(actor=compliance, finding=finding, reason=" ")
    assert "reason" in caught.value.errors
    finding = services.finding_close(actor=compliance, finding=finding,
                                     reason="Skill approved in release 1.4")
    assert finding.state == FindingState.CLOSED
    assert finding.history.first().history_change_reason == "Skill approved in release 1.4"
    with pytest.raises(DomainError):
        services.finding_close(actor=compliance, finding=finding, reason="again")


def test_the_beat_task_polls_every_active_watch(team, served):
    from almportal.standards.tasks import watches_poll

    agent, approved, _ = team
    card = exports.card_content(approved)
    watch = watch_of(agent, served, {**card, "skills": [*card["skills"], NEW_SKILL]})
    stopped = services.watch_add(actor=agent.business_owner, agent=agent, kind="a2a_card",
                                 url=served.base + "/other.json")
    services.watch_set_active(actor=agent.business_owner, watch=stopped, active=False)
    assert watches_poll.apply().get() == 1
    assert DriftFinding.objects.filter(watch=watch).count() == 1


def test_the_beat_schedule_names_the_poll():
    from almportal.celery import app

    entry = app.conf.beat_schedule["standards-watches-poll"]
    assert entry["task"] == "almportal.standards.tasks.watches_poll"
