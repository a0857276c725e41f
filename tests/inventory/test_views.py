import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.accounts.roles import Role
from almportal.inventory import services
from almportal.inventory.choices import GrantMode, Stage
from almportal.inventory.models import Agent, Credential, ModelComponent, Tool
from almportal.inventory.selectors import agent_delegates
from almportal.releases.models import Release

from ..factories import make_agent, make_model, make_release, make_user

pytestmark = pytest.mark.django_db


def intake_form(**overrides) -> dict:
    data = {
        "name": "Expense checker",
        "purpose": "Flags expense claims that break the travel policy.",
        "why_agent": "Rules miss free-text justifications; a prompt alone cannot read receipts.",
        "intended_users": "Finance team, 40 people.",
        "audience": "internal",
        "success_metrics": "Claims reviewed per day: 500\nFalse flags: under 5%",
        "autonomy_level": "suggest_only",
        "data_classification": "confidential",
        "action_reach": "read_only",
        "regulated_domain": "finance",
        "business_unit": "Finance",
        "technical_owner": "",
        "sponsor": "CFO",
        "tags": "finance, Expenses",
    }
    data.update(overrides)
    return data


def url(name: str, *args) -> str:
    area = "releases" if name.startswith("release-") else "inventory"  # releases own theirs
    return reverse(f"{area}:{name}", args=args)


def snapshot(agent: Agent) -> tuple:
    agent.refresh_from_db()
    return (agent.name, agent.stage, agent.history.count(), len(agent_delegates(agent)),
            agent.releases.count(), ModelComponent.objects.filter(agent=agent).count())


# --- Intake: filing, submitting, triage ---------------------------------------------------

def test_it_files_a_draft_then_submits_it(client, owner):
    client.force_login(owner)
    assert client.get(url("agent-create")).status_code == 200
    response = client.post(url("agent-create"), intake_form(action="draft"))
    agent = Agent.objects.get()
    assert response.status_code == 302 and response.url == agent.get_absolute_url()
    assert agent.stage == Stage.DRAFT and agent.business_owner == owner
    assert agent.success_metrics == [{"name": "Claims reviewed per day", "target": "500"},
                                     {"name": "False flags", "target": "under 5%"}]
    assert agent.tags == ["expenses", "finance"]
    assert agent.regulated_domain == "finance" and agent.sponsor == "CFO"

    page = client.get(agent.get_absolute_url())
    assert b"Submit for triage" in page.content
    client.post(url("agent-submit", agent.slug))
    agent.refresh_from_db()
    assert agent.stage == Stage.PROPOSED


def test_it_saves_and_submits_in_one_step(client, owner):
    client.force_login(owner)
    response = client.post(url("agent-create"), intake_form(action="submit"), follow=True)
    assert Agent.objects.get().stage == Stage.PROPOSED
    said = [str(message) for message in response.context["messages"]]
    assert any("submitted for triage" in text for text in said), said


def test_it_withdraws_a_proposed_intake(client, owner):
    agent = make_agent(owner, Stage.PROPOSED)
    client.force_login(owner)
    client.post(url("agent-withdraw", agent.slug))
    agent.refresh_from_db()
    assert agent.stage == Stage.DRAFT


def test_it_accepts_from_the_queue_with_a_note(client, owner, compliance):
    agent = make_agent(owner, Stage.PROPOSED)
    client.force_login(compliance)
    queue = client.get(url("intake-queue"))
    assert queue.status_code == 200 and agent.name.encode() in queue.content
    response = client.post(url("agent-accept", agent.slug),
                           {"reason": "Fits the roadmap", "next": url("intake-queue")})
    assert response.url == url("intake-queue")
    agent.refresh_from_db()
    assert agent.stage == Stage.IN_DEVELOPMENT
    assert agent.history.first().history_change_reason == "Fits the roadmap"


def test_it_declines_with_a_reason(client, owner, compliance):
    agent = make_agent(owner, Stage.PROPOSED)
    client.force_login(compliance)
    response = client.post(url("agent-decline", agent.slug), {"reason": "Duplicate of HR bot"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.stage == Stage.DECLINED
    assert agent.history.first().history_change_reason == "Duplicate of HR bot"


def test_it_requires_a_reason_to_decline(client, owner, compliance):
    agent = make_agent(owner, Stage.PROPOSED)
    before = snapshot(agent)
    client.force_login(compliance)
    response = client.post(url("agent-decline", agent.slug), {"reason": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Say why the intake is declined."]
    assert b'id="id_reason_error"' in response.content
    assert snapshot(agent) == before


def test_it_shows_the_queue_only_to_triagers(client, owner, auditor):
    for user in (owner, auditor):
        client.force_login(user)
        assert client.get(url("intake-queue")).status_code == 403


def test_it_shows_triage_buttons_only_to_compliance(client, owner, compliance, auditor):
    agent = make_agent(owner, Stage.PROPOSED)
    for user, shown in ((compliance, True), (auditor, False), (owner, False)):
        client.force_login(user)
        page = client.get(agent.get_absolute_url())
        assert (url("agent-accept", agent.slug).encode() in page.content) is shown


# --- Who may see and change what --------------------------------------------------------

def _every_post(agent: Agent, release: Release, credential: Credential, someone) -> list:
    return [
        (url("agent-edit", agent.slug), intake_form(name="Hijacked", reason="x")),
        (url("agent-submit", agent.slug), {}),
        (url("agent-withdraw", agent.slug), {}),
        (url("agent-accept", agent.slug), {}),
        (url("agent-decline", agent.slug), {"reason": "no"}),
        (url("delegate-add", agent.slug), {"user": someone.pk}),
        (url("delegate-remove", agent.slug, someone.pk), {}),
        (url("component-create", agent.slug, "models"),
         {"name": "m", "provider": "p", "model_name": "x", "pinned_version": "1",
          "hosting": "vendor_api"}),
        (url("credential-revoke", agent.slug, credential.pk), {"reason": "x"}),
        (url("release-create", agent.slug), {"label": "9", "configuration": "{}"}),
        (url("release-edit", agent.slug, release.number), {"label": "9", "configuration": "{}"}),
        (url("release-submit", agent.slug, release.number), {}),
    ]


def _world(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    credential = services.component_add_version(
        actor=owner, agent=agent, kind="credentials",
        data={"name": "graph", "identity": "svc-expense", "scopes": ["mail.read"],
              "granted_by": "IT", "mode": GrantMode.STANDING})
    delegate = make_user()
    services.agent_add_delegate(actor=owner, agent=agent, user=delegate)
    return agent, release, credential, delegate


def _state(agent, release, credential):
    release.refresh_from_db()
    credential.refresh_from_db()
    return (snapshot(agent), release.label, release.state, release.manifest_hash,
            credential.revoked_at, Release.history.count(), Tool.objects.count())


def test_it_hides_another_owners_agent(client, owner, other_owner):
    agent, release, credential, delegate = _world(owner)
    draft = make_agent(owner, name="Secret draft")
    before = _state(agent, release, credential)
    client.force_login(other_owner)
    for page in (draft.get_absolute_url(), url("agent-edit", draft.slug),
                 agent.get_absolute_url(), url("agent-edit", agent.slug),
                 url("agent-decline", agent.slug), url("component-create", agent.slug, "tools"),
                 url("release-create", agent.slug), release.get_absolute_url(),
                 url("release-edit", agent.slug, release.number)):
        assert client.get(page).status_code == 404, page
    for target, data in _every_post(agent, release, credential, delegate):
        assert client.post(target, data).status_code == 404, target
    assert client.post(url("agent-submit", draft.slug)).status_code == 404
    assert _state(agent, release, credential) == before
    draft.refresh_from_db()
    assert draft.stage == Stage.DRAFT


def test_it_lets_an_auditor_read_but_change_nothing(client, owner, auditor):
    agent, release, credential, delegate = _world(owner)
    before = _state(agent, release, credential)
    client.force_login(auditor)
    page = client.get(agent.get_absolute_url())
    assert page.status_code == 200
    assert url("agent-edit", agent.slug).encode() not in page.content
    assert b"Revoke" not in page.content
    assert client.get(release.get_absolute_url()).status_code == 200
    posts = _every_post(agent, release, credential, delegate)
    for target, data in [(url("agent-create"), intake_form()), *posts]:
        response = client.post(target, data)
        assert response.status_code == 403, target
        assert b"Not allowed" in response.content
    for form_page in (url("agent-create"), url("agent-edit", agent.slug),
                      url("component-create", agent.slug, "tools"),
                      url("release-create", agent.slug)):
        assert client.get(form_page).status_code == 403
    assert _state(agent, release, credential) == before
    assert Agent.objects.count() == 1


def test_it_refuses_get_on_post_actions(client, owner):
    agent = make_agent(owner)
    client.force_login(owner)
    assert client.get(url("agent-submit", agent.slug)).status_code == 405
    agent.refresh_from_db()
    assert agent.stage == Stage.DRAFT


def test_it_requires_login(client, agent):
    response = client.get(agent.get_absolute_url())
    assert response.status_code == 302 and "/login/" in response.url


# --- The agent page and its history -----------------------------------------------------

def test_an_edit_appears_in_the_history_with_who_what_and_why(client, owner):
    agent = make_agent(owner)
    client.force_login(owner)
    form = client.get(url("agent-edit", agent.slug)).context["form"]
    assert form["success_metrics"].value() == "Deflected tickets: 30%"
    data = intake_form(name="Handbook helper", reason="Clearer name",
                       success_metrics="Deflected tickets: 30%", tags="",
                       purpose=agent.purpose, why_agent=agent.why_agent,
                       intended_users=agent.intended_users, business_unit=agent.business_unit,
                       data_classification=agent.data_classification,
                       regulated_domain=agent.regulated_domain, sponsor="")
    response = client.post(url("agent-edit", agent.slug), data)
    assert response.status_code == 302
    page = client.get(agent.get_absolute_url())
    entry = page.context["history"][0]
    assert entry.user == owner and entry.reason == "Clearer name"
    assert ("name", "Internal FAQ assistant", "Handbook helper") in [
        (c.field, c.old, c.new) for c in entry.changes]
    html = page.content.decode()
    assert "Clearer name" in html and str(owner) in html
    assert re.search(r"name</span>: <del>Internal FAQ assistant</del> → <ins>Handbook helper</ins>",
                     html)


def test_the_agent_page_shows_record_components_and_releases(client, owner):
    agent, release, credential, delegate = _world(owner)
    make_model(agent, pinned_version="2026-07-01")  # main-model v2
    client.force_login(owner)
    html = client.get(agent.get_absolute_url()).content.decode()
    assert "Suggest only" in html and "Deflected tickets" in html
    assert "2026-06-01" in html and "2026-07-01" in html  # every version
    assert release.get_absolute_url() in html
    assert str(delegate) in html
    assert 'data-layout="portal"' in html


def test_the_owner_adds_and_removes_a_delegate(client, owner):
    agent = make_agent(owner)
    colleague = make_user()
    client.force_login(owner)
    client.post(url("delegate-add", agent.slug), {"user": colleague.pk})
    assert agent_delegates(agent) == [colleague]
    client.post(url("delegate-remove", agent.slug, colleague.pk))
    assert agent_delegates(agent) == []


def test_it_refuses_to_remove_the_owner(client, owner):
    agent = make_agent(owner)
    client.force_login(owner)
    response = client.post(url("delegate-remove", agent.slug, owner.pk), follow=True)
    assert b"The business owner keeps access" in response.content
    assert owner.has_perm("inventory.change_agent", agent)


# --- Bad input shows a form error and writes nothing ------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("audience", "martians", "Select a valid choice"),
    ("name", "x" * 121, "at most 120 characters"),
    ("success_metrics", "Tickets: 30%\nno target here", "Line 2 (“no target here”)"),
    ("technical_owner", "999999", "Select a valid choice"),
])
def test_it_rejects_bad_intake_input(client, owner, field, value, message):
    client.force_login(owner)
    response = client.post(url("agent-create"), intake_form(**{field: value}))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"'.encode() in response.content
    assert not Agent.objects.exists()


def test_it_shows_a_service_error_on_the_field(client, owner):
    client.force_login(owner)
    kpis = "\n".join(f"KPI {n}: {n}" for n in range(25))
    response = client.post(url("agent-create"), intake_form(success_metrics=kpis))
    assert "at most 20 KPIs" in " ".join(response.context["form"].errors["success_metrics"])
    assert not Agent.objects.exists()


# --- Components ---------------------------------------------------------------------------

def test_it_adds_component_versions(client, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    client.force_login(owner)
    data = {"name": "crm", "tool_kind": "rest_api", "endpoint": "https://crm.example/api",
            "operations": "search, read_contact", "writes": "on"}
    for expected in (1, 2):
        response = client.post(url("component-create", agent.slug, "tools"), data)
        assert response.status_code == 302
        assert Tool.objects.filter(agent=agent).latest("version").version == expected
    tool = Tool.objects.get(agent=agent, version=1)
    assert tool.operations == ["search", "read_contact"] and tool.writes


def test_it_adds_a_credential_and_revokes_it(client, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    client.force_login(owner)
    client.post(url("component-create", agent.slug, "credentials"), {
        "name": "mail", "identity": "svc-mail", "scopes": "mail.read, mail.send",
        "granted_by": "IT", "expires_at": "2030-01-01T10:00", "mode": "just_in_time"})
    credential = Credential.objects.get(agent=agent)
    assert credential.scopes == ["mail.read", "mail.send"]
    client.post(url("credential-revoke", agent.slug, credential.pk), {"reason": "Not needed"})
    credential.refresh_from_db()
    assert credential.is_revoked and credential.revoked_by == owner


def test_it_rejects_a_bad_component_name(client, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    client.force_login(owner)
    response = client.post(url("component-create", agent.slug, "models"), {
        "name": "bad<name>", "provider": "p", "model_name": "m", "pinned_version": "1",
        "hosting": "vendor_api"})
    assert "name" in response.context["form"].errors
    assert not ModelComponent.objects.exists()


def test_it_404s_an_unknown_component_kind(client, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    client.force_login(owner)
    assert client.get(url("component-create", agent.slug, "rockets")).status_code == 404


# --- The list page ------------------------------------------------------------------------

def _list_queries(client, user, sort: str = "name") -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url("agent-list"), {"sort": sort}).status_code == 200
    return len(queries)


def test_the_list_query_count_does_not_grow_with_rows(client, owner, compliance):
    for n in range(5):
        make_agent(owner, name=f"Agent {n}")
    client.force_login(compliance)
    one_page = _list_queries(client, compliance)
    for n in range(5, 26):
        make_agent(owner, name=f"Agent {n}")
    with_two_pages = [_list_queries(client, compliance, sort) for sort in ("name", "-tier")]
    assert one_page == with_two_pages[0] - 1  # a list on one page is counted as it is read
    for n in range(26, 50):
        make_agent(make_user(Role.BUSINESS_OWNER), name=f"Agent {n}")
    assert [_list_queries(client, compliance, sort) for sort in ("name", "-tier")] == (
        with_two_pages)


def _follow(client, link: str):
    return client.get(url("agent-list") + html.unescape(link))


def test_it_filters_and_pages_by_keyset_keeping_the_filters(client, owner, compliance):
    for n in range(30):
        make_agent(owner, name=f"Bot {n:02}")
    make_agent(owner, name="Other", business_unit="Legal")
    client.force_login(compliance)
    page = client.get(url("agent-list"), {"business_unit": "people operations", "q": "bot"})
    first = page.context["page"]
    assert first.count == 30 and len(first.object_list) == 25 and not first.previous_url
    assert "business_unit=people+operations" in first.next_url and "after=" in first.next_url
    second = _follow(client, first.next_url).context["page"]
    assert [a.name for a in second.object_list] == [f"Bot {n:02}" for n in range(25, 30)]
    assert not second.next_url
    back = _follow(client, second.previous_url).context["page"]
    assert [a.name for a in back.object_list] == [f"Bot {n:02}" for n in range(25)]


@pytest.mark.parametrize("sort", ["name", "-name", "stage", "-stage", "tier", "unit", "-data"])
def test_every_column_sorts_and_pages_without_gaps_or_repeats(client, owner, compliance, sort):
    stages = [Stage.DRAFT, Stage.PROPOSED, Stage.IN_DEVELOPMENT]
    for n in range(31):
        make_agent(owner, stages[n % 3], name=f"Agent {n:02}",
                   business_unit=f"Unit {n % 4}")
    client.force_login(compliance)
    seen, page = [], client.get(url("agent-list"), {"sort": sort}).context["page"]
    while True:
        seen += page.object_list
        if not page.next_url:
            break
        page = _follow(client, page.next_url).context["page"]
    assert len(seen) == len({a.pk for a in seen}) == 31
    key = {"name": "name", "stage": "stage", "tier": "risk_tier", "unit": "business_unit",
           "data": "data_classification"}[sort.lstrip("-")]
    order = {"stage": list(Stage.values)}.get(key, None)
    values = [order.index(getattr(a, key)) if order else getattr(a, key) for a in seen]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_the_sorted_column_is_marked_and_its_header_reverses_it(client, owner, compliance):
    make_agent(owner)
    client.force_login(compliance)
    page = client.get(url("agent-list"), {"sort": "stage", "stage": ["draft"]})
    content = page.content.decode()
    assert 'aria-sort="ascending"' in content and "sort=-stage" in content
    [stage] = [c for c in page.context["page"].columns if c.label == "Stage"]
    assert "stage=draft" in html.unescape(stage.url) and "sort=-stage" in stage.url


def test_a_bad_sort_or_cursor_shows_the_first_page(client, owner, compliance):
    make_agent(owner, name="Only")
    client.force_login(compliance)
    for query in ({"sort": "password"}, {"sort": "owner"}, {"after": "%%%"},
                  {"before": "bm90IGpzb24"}):
        page = client.get(url("agent-list"), query)
        assert page.status_code == 200
        assert [a.name for a in page.context["page"].object_list] == ["Only"]


def test_the_filters_are_chips(client, compliance):
    client.force_login(compliance)
    content = client.get(url("agent-list"), {"stage": ["live"]}).content.decode()
    assert '<select name="stage"' not in content and "multiple" not in content
    assert 'type="checkbox" name="stage" value="live"' in content
    assert 'value="live" id="id_stage_4" checked' in content


def test_the_list_shows_only_visible_agents(client, owner, other_owner):
    make_agent(owner, name="Mine")
    make_agent(other_owner, name="Theirs")
    client.force_login(owner)
    page = client.get(url("agent-list"), {"stage": ["draft"]})
    assert [a.name for a in page.context["page"].object_list] == ["Mine"]


def test_an_agent_named_like_a_page_keeps_its_own_url(client, owner):
    agent = make_agent(owner, name="New")
    assert agent.slug != "new"
    client.force_login(owner)
    assert client.get(agent.get_absolute_url()).context["agent"] == agent
