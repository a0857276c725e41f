import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from almportal.accounts.models import User
from almportal.inventory import services
from almportal.inventory.choices import Stage
from almportal.inventory.models import (
    Agent,
    AgentUserObjectPermission,
    Credential,
    ModelComponent,
    Prompt,
    Tool,
)
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState
from almportal.releases.models import Release

from ..factories import intake_data, make_agent, make_model, make_prompt, make_release

pytestmark = pytest.mark.django_db

AGENTS = "/api/v1/agents/"
RELEASES = "/api/v1/releases/"


def api(user=None) -> APIClient:
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")  # as behind the TLS proxy
    if user is not None:
        client.force_authenticate(user)
    return client


def latest_history(model):
    return model.history.order_by("-history_id").first()


def history_rows() -> int:
    return sum(model.history.count()
               for model in (Agent, Release, ModelComponent, Prompt, Tool, Credential))


def tool_data(agent, **overrides) -> dict:
    data = {"agent": agent.slug, "name": "crm-lookup", "tool_kind": "rest_api",
            "endpoint": "https://crm.example.test/api", "operations": ["get_customer"],
            "writes": False, "needs_human_approval": False}
    data.update(overrides)
    return data


# --- The intake journey and visibility ------------------------------------------------------

def test_it_files_submits_and_accepts_an_intake(owner, compliance):
    response = api(owner).post(AGENTS, intake_data(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stage"] == Stage.DRAFT
    assert body["business_owner"] == "olivia"
    assert body["success_metrics"] == [{"name": "Deflected tickets", "target": "30%"}]
    slug = body["slug"]

    response = api(owner).post(f"{AGENTS}{slug}/submit/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["stage"] == Stage.PROPOSED

    response = api(compliance).post(f"{AGENTS}{slug}/accept/", {"reason": "Fits the roadmap"},
                                    format="json")
    assert response.status_code == 200
    assert response.json()["stage"] == Stage.IN_DEVELOPMENT
    agent = Agent.objects.get(slug=slug)
    assert agent.stage == Stage.IN_DEVELOPMENT
    assert latest_history(Agent).history_change_reason == "Fits the roadmap"


def test_it_hides_a_draft_from_another_owner(agent, other_owner):
    client = api(other_owner)
    assert client.get(f"{AGENTS}{agent.slug}/").status_code == 404
    assert client.patch(f"{AGENTS}{agent.slug}/", {"name": "Mine now"},
                        format="json").status_code == 404
    assert client.post(f"{AGENTS}{agent.slug}/submit/", {}, format="json").status_code == 404
    assert client.get(AGENTS).json()["results"] == []
    agent.refresh_from_db()
    assert (agent.name, agent.stage) == ("Internal FAQ assistant", Stage.DRAFT)


def test_it_lets_the_owner_edit_with_a_reason(agent, owner):
    response = api(owner).patch(f"{AGENTS}{agent.slug}/",
                                {"purpose": "Answers HR questions.", "tags": ["HR", "faq"],
                                 "reason": "Narrowed the scope"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["faq", "hr"]
    row = latest_history(Agent)
    assert row.purpose == "Answers HR questions."
    assert (row.history_user, row.history_change_reason) == (owner, "Narrowed the scope")


def test_it_replaces_the_record_on_put(agent, owner):
    data = intake_data(name="Handbook assistant", success_metrics=[])
    response = api(owner).put(f"{AGENTS}{agent.slug}/", data, format="json")
    assert response.status_code == 200, response.json()
    agent.refresh_from_db()
    assert (agent.name, agent.success_metrics) == ("Handbook assistant", [])


def test_it_requires_a_reason_to_decline(owner, compliance):
    agent = make_agent(owner, Stage.PROPOSED)
    response = api(compliance).post(f"{AGENTS}{agent.slug}/decline/", {"reason": " "},
                                    format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    response = api(compliance).post(f"{AGENTS}{agent.slug}/decline/",
                                    {"reason": "Duplicates the HR bot"}, format="json")
    assert response.status_code == 200
    assert response.json()["stage"] == Stage.DECLINED
    response = api(owner).post(f"{AGENTS}{agent.slug}/withdraw/", {}, format="json")
    assert response.json()["stage"] == Stage.DRAFT


def test_it_refuses_an_illegal_move_with_409(agent, compliance):
    response = api(compliance).post(f"{AGENTS}{agent.slug}/accept/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"]
    agent.refresh_from_db()
    assert agent.stage == Stage.DRAFT


def test_it_refuses_triage_by_the_owner(owner):
    agent = make_agent(owner, Stage.PROPOSED)
    assert api(owner).post(f"{AGENTS}{agent.slug}/accept/", {},
                           format="json").status_code == 403


def test_it_adds_and_removes_delegates(agent, owner, other_owner):
    url = f"{AGENTS}{agent.slug}/delegates/"
    response = api(owner).post(url, {"user": "oscar"}, format="json")
    assert response.status_code == 200, response.json()
    assert [d["username"] for d in response.json()] == ["oscar"]
    assert api(other_owner).get(f"{AGENTS}{agent.slug}/").status_code == 200
    assert api(owner).get(url).json() == response.json()

    assert api(owner).delete(f"{url}oscar/").status_code == 204
    assert api(other_owner).get(f"{AGENTS}{agent.slug}/").status_code == 404
    assert api(owner).delete(f"{url}nobody/").status_code == 404


def test_it_filters_the_agent_list(owner, compliance):
    make_agent(owner, name="Claims triage", business_unit="Claims")
    make_agent(owner, Stage.PROPOSED, name="HR helper", tags=["hr"])
    client = api(compliance)

    def names(query: str) -> list[str]:
        return sorted(a["name"] for a in client.get(AGENTS + query).json()["results"])

    assert names("?stage=proposed") == ["HR helper"]
    assert names("?q=claims") == ["Claims triage"]
    assert names("?tag=hr") == ["HR helper"]
    assert names(f"?owner={owner.pk}") == ["Claims triage", "HR helper"]
    assert client.get(AGENTS + "?stage=nonsense").status_code == 400


# --- Auditors read everything and change nothing --------------------------------------------

def test_it_lets_an_auditor_read_but_refuses_every_write(owner, auditor):
    draft = make_agent(owner, name="Draft agent")
    proposed = make_agent(owner, Stage.PROPOSED, name="Proposed agent")
    building = make_agent(owner, Stage.IN_DEVELOPMENT, name="Building agent")
    release = make_release(building)
    model = make_model(building)
    credential = services.component_add_version(
        actor=owner, agent=building, kind="credentials",
        data={"name": "crm", "identity": "svc-crm", "scopes": ["read"], "granted_by": "IT"})
    client = api(auditor)
    assert len(client.get(AGENTS).json()["results"]) == 3
    assert client.get(f"{AGENTS}{draft.slug}/").status_code == 200
    assert client.get(f"{RELEASES}{release.pk}/").status_code == 200
    before_rows, before_agents = history_rows(), Agent.objects.count()

    attempts = [
        client.post(AGENTS, intake_data(), format="json"),
        client.patch(f"{AGENTS}{draft.slug}/", {"name": "Audited"}, format="json"),
        client.post(f"{AGENTS}{draft.slug}/submit/", {}, format="json"),
        client.post(f"{AGENTS}{proposed.slug}/accept/", {}, format="json"),
        client.post(f"{AGENTS}{proposed.slug}/decline/", {"reason": "No"}, format="json"),
        client.post(f"{AGENTS}{draft.slug}/delegates/", {"user": "audrey"}, format="json"),
        client.post("/api/v1/models/", {"agent": building.slug, "name": "m", "provider": "p",
                                        "model_name": "x", "pinned_version": "1",
                                        "hosting": "vendor_api"}, format="json"),
        client.post(RELEASES, {"agent": building.slug, "components": {"models": [model.pk]}},
                    format="json"),
        client.patch(f"{RELEASES}{release.pk}/", {"label": "2.0"}, format="json"),
        client.post(f"{RELEASES}{release.pk}/submit/", {}, format="json"),
        client.post(f"/api/v1/credentials/{credential.pk}/revoke/", {"reason": "Audit"},
                    format="json"),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert all(r.json()["detail"] for r in attempts)
    assert (history_rows(), Agent.objects.count()) == (before_rows, before_agents)


# --- Every change carries its actor ---------------------------------------------------------

def test_it_records_the_acting_user_on_every_change(owner, other_owner, compliance):
    client, delegate = api(owner), other_owner

    def change(model, actor, send) -> dict:
        rows = model.history.count()
        response = send(api(actor))
        assert response.status_code in (200, 201), response.json()
        assert model.history.count() > rows
        assert latest_history(model).history_user == actor
        return response.json()

    slug = change(Agent, owner, lambda c: c.post(AGENTS, intake_data(), format="json"))["slug"]
    change(Agent, owner, lambda c: c.patch(f"{AGENTS}{slug}/", {"sponsor": "COO"},
                                            format="json"))
    change(Agent, owner, lambda c: c.post(f"{AGENTS}{slug}/submit/", {}, format="json"))
    change(Agent, compliance, lambda c: c.post(f"{AGENTS}{slug}/accept/", {}, format="json"))
    model = change(ModelComponent, owner, lambda c: c.post("/api/v1/models/", {
        "agent": slug, "name": "main", "provider": "Example AI", "model_name": "large",
        "pinned_version": "2026-06-01", "hosting": "vendor_api", "reason": "First model"},
        format="json"))
    assert latest_history(ModelComponent).history_change_reason == "First model"

    release = change(Release, owner, lambda c: c.post(
        RELEASES, {"agent": slug, "components": {"models": [model["id"]]}}, format="json"))
    change(Release, owner, lambda c: c.patch(f"{RELEASES}{release['id']}/",
                                             {"label": "1.0.0", "reason": "Named it"},
                                             format="json"))
    assert latest_history(Release).history_change_reason == "Named it"
    change(Release, owner, lambda c: c.post(f"{RELEASES}{release['id']}/submit/", {},
                                            format="json"))
    assert latest_history(Release).state == ReleaseState.SUBMITTED

    credential = change(Credential, owner, lambda c: c.post("/api/v1/credentials/", {
        "agent": slug, "name": "crm", "identity": "svc-crm", "scopes": ["crm.read"],
        "granted_by": "IT service desk"}, format="json"))
    change(Credential, owner, lambda c: c.post(f"/api/v1/credentials/{credential['id']}/revoke/",
                                               {"reason": "Rotating"}, format="json"))
    assert latest_history(Credential).history_change_reason == "Rotating"

    change(AgentUserObjectPermission, owner, lambda c: c.post(
        f"{AGENTS}{slug}/delegates/", {"user": delegate.username}, format="json"))
    change(Agent, delegate, lambda c: c.patch(f"{AGENTS}{slug}/", {"sponsor": "CFO"},
                                               format="json"))
    rows = AgentUserObjectPermission.history.count()
    assert client.delete(f"{AGENTS}{slug}/delegates/{delegate.username}/").status_code == 204
    assert AgentUserObjectPermission.history.count() > rows
    removed = latest_history(AgentUserObjectPermission)
    assert (removed.history_type, removed.history_user) == ("-", owner)


# --- Components -----------------------------------------------------------------------------

def test_it_versions_components_and_never_edits_them(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    client = api(owner)
    first = client.post("/api/v1/tools/", tool_data(agent), format="json")
    assert first.status_code == 201, first.json()
    second = client.post("/api/v1/tools/", tool_data(agent, writes=True), format="json")
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    url = f"/api/v1/tools/{first.json()['id']}/"
    assert client.put(url, tool_data(agent), format="json").status_code == 405
    assert client.patch(url, {"writes": True}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    assert Tool.objects.get(pk=first.json()["id"]).writes is False

    prompt = client.post("/api/v1/prompts/", {"agent": agent.slug, "name": "system",
                                              "text": "Be brief."}, format="json").json()
    assert len(prompt["content_hash"]) == 64


def test_it_lists_components_by_agent(owner, other_owner, compliance):
    mine = make_agent(owner, Stage.IN_DEVELOPMENT, name="Mine")
    theirs = make_agent(other_owner, Stage.IN_DEVELOPMENT, name="Theirs")
    make_model(mine)
    hidden = make_model(theirs)
    assert len(api(compliance).get("/api/v1/models/").json()["results"]) == 2
    results = api(compliance).get(f"/api/v1/models/?agent={mine.slug}").json()["results"]
    assert [m["agent"] for m in results] == [mine.slug]
    assert len(api(owner).get("/api/v1/models/").json()["results"]) == 1
    assert api(owner).get(f"/api/v1/models/{hidden.pk}/").status_code == 404


def test_it_does_not_reveal_a_hidden_agent_when_adding_a_component(other_owner):
    agent = make_agent(stage=Stage.IN_DEVELOPMENT)
    response = api(other_owner).post("/api/v1/prompts/", {"agent": agent.slug, "name": "x",
                                                         "text": "y"}, format="json")
    assert response.status_code == 400
    assert "agent" in response.json()["errors"]
    assert not Prompt.objects.exists()


def test_it_requires_a_reason_to_revoke_a_credential(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    credential = services.component_add_version(
        actor=owner, agent=agent, kind="credentials",
        data={"name": "crm", "identity": "svc-crm", "scopes": ["read"], "granted_by": "IT"})
    url = f"/api/v1/credentials/{credential.pk}/revoke/"
    response = api(owner).post(url, {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    credential.refresh_from_db()
    assert credential.revoked_at is None
    response = api(owner).post(url, {"reason": "Rotated"}, format="json")
    assert response.status_code == 200
    assert response.json()["revoked_by"] == "olivia"


# --- Releases -------------------------------------------------------------------------------

def test_it_drafts_and_submits_a_release(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    model, prompt = make_model(agent), make_prompt(agent)
    response = api(owner).post(RELEASES, {
        "agent": agent.slug, "label": "1.0.0", "configuration": {"max_tokens": 2000},
        "components": {"models": [model.pk], "prompts": [prompt.pk]}}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["components"] == {"models": [model.pk], "prompts": [prompt.pk], "tools": [],
                                  "data_sources": [], "credentials": []}
    assert body["manifest"]["configuration"] == {"max_tokens": 2000}
    assert len(body["manifest_hash"]) == 64

    response = api(owner).post(f"{RELEASES}{body['id']}/submit/", {}, format="json")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["submitted_by"]) == ("submitted",
                                                                            "olivia")
    listed = api(owner).get(f"{RELEASES}?agent={agent.slug}&state=submitted").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]


def test_it_refuses_a_release_before_the_intake_is_accepted(agent, owner):
    response = api(owner).post(RELEASES, {"agent": agent.slug}, format="json")
    assert response.status_code == 409
    assert not Release.objects.exists()


def test_it_refuses_to_change_a_submitted_release(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = release_services.release_submit(actor=owner, release=make_release(agent, label="1.0"))
    rows = Release.history.count()
    response = api(owner).patch(f"{RELEASES}{release.pk}/",
                                {"label": "1.1", "configuration": {"max_tokens": 1}},
                                format="json")
    assert response.status_code == 409
    assert "frozen" in response.json()["detail"]
    fresh = Release.objects.get(pk=release.pk)
    assert (fresh.label, fresh.configuration, fresh.manifest_hash) == (
        "1.0", {}, release.manifest_hash)
    assert Release.history.count() == rows
    assert api(owner).put(f"{RELEASES}{release.pk}/", {"label": "x"},
                          format="json").status_code == 405


def test_it_hashes_the_same_manifest_regardless_of_order(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    model = make_model(agent)
    system, style = make_prompt(agent), make_prompt(agent, name="style", text="Plain English.")
    client = api(owner)

    def release(prompts, configuration):
        response = client.post(RELEASES, {
            "agent": agent.slug, "configuration": configuration,
            "components": {"prompts": prompts, "models": [model.pk]}}, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["manifest_hash"]

    first = release([system.pk, style.pk], {"limits": {"tokens": 2000, "rpm": 60}, "x": 1})
    second = release([style.pk, system.pk], {"x": 1, "limits": {"rpm": 60, "tokens": 2000}})
    other = release([style.pk, system.pk], {"x": 2, "limits": {"rpm": 60, "tokens": 2000}})
    assert first == second
    assert other != first


def test_it_refuses_components_of_another_agent(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT, name="One")
    elsewhere = make_model(make_agent(owner, Stage.IN_DEVELOPMENT, name="Two"))
    response = api(owner).post(RELEASES, {"agent": agent.slug,
                                          "components": {"models": [elsewhere.pk]}},
                               format="json")
    assert response.status_code == 400
    assert "models" in response.json()["errors"]
    assert not Release.objects.filter(agent=agent).exists()


# --- Bad input: 400 with field errors, nothing written --------------------------------------

@pytest.mark.parametrize("body, field", [
    ({"name": ["a", "list"]}, "name"),
    ({"success_metrics": "more tickets"}, "success_metrics"),
    ({"tags": "hr"}, "tags"),
    ({"audience": "martians"}, "audience"),
    ({"name": "x" * 121}, "name"),
    ({"purpose": "x" * 4001}, "purpose"),
    ({"success_metrics": [{"name": "Deflection"}]}, "success_metrics"),
    ({"success_metrics": ["Deflection 30%"]}, "success_metrics"),
    ({"success_metrics": [{"name": "D", "target": "1", "unit": "%"}]}, "success_metrics"),
    ({"success_metrics": [{"name": "D", "target": "1"}] * 21}, "success_metrics"),
    ({"stage": Stage.LIVE}, "stage"),
    ({"business_owner": "oscar"}, "business_owner"),
    ({"colour": "blue"}, "colour"),
    ({"technical_owner": "nobody"}, "technical_owner"),
])
def test_it_refuses_bad_intake_fields(owner, body, field):
    response = api(owner).post(AGENTS, intake_data(**body), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Agent.objects.exists()
    assert not Agent.history.exists()


@pytest.mark.parametrize("payload", ['{"name": "unterminated', '["a", "list"]', '"a string"',
                                     "NaN", "", "[" * 100_000 + "]" * 100_000])
def test_it_refuses_a_body_that_is_not_a_json_object(owner, payload):
    response = api(owner).post(AGENTS, payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Agent.objects.exists()


def test_it_refuses_a_body_too_large(owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api(owner).post(AGENTS, intake_data(purpose="x" * 2000), format="json")
    assert response.status_code == 413
    assert response.json()["detail"]
    assert not Agent.objects.exists()


def test_it_refuses_a_body_of_an_unsupported_type(owner):
    response = api(owner).post(AGENTS, "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert not Agent.objects.exists()


def test_it_reports_every_bad_field_at_once(owner):
    body = intake_data(name=["x"], audience="martians", success_metrics=[{"name": "a"}],
                       stage=Stage.LIVE)
    response = api(owner).post(AGENTS, body, format="json")
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["audience", "name", "stage", "success_metrics"]


def test_it_leaves_the_record_unchanged_on_a_bad_patch(agent, owner):
    rows = Agent.history.count()
    response = api(owner).patch(f"{AGENTS}{agent.slug}/",
                                {"name": "Renamed", "autonomy_level": "total"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["autonomy_level"]
    agent.refresh_from_db()
    assert agent.name == "Internal FAQ assistant"
    assert Agent.history.count() == rows


@pytest.mark.parametrize("body, field", [
    ({"hosting": "on_a_laptop"}, "hosting"),
    ({"name": "bad name!"}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"provider": 12.5, "pinned_version": {"v": 1}}, "pinned_version"),
    ({"version": 7}, "version"),
    ({"agent": "no-such-agent"}, "agent"),
])
def test_it_refuses_bad_component_fields(owner, body, field):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    data = {"agent": agent.slug, "name": "main", "provider": "Example AI",
            "model_name": "large", "pinned_version": "1", "hosting": "vendor_api", **body}
    response = api(owner).post("/api/v1/models/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not ModelComponent.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"configuration": ["not", "an", "object"]}, "configuration"),
    ({"components": {"widgets": [1]}}, "components"),
    ({"components": {"models": "all"}}, "components"),
    ({"components": {"models": [-1]}}, "components"),
    ({"components": {"models": [10**30]}}, "components"),
    ({"configuration": {"a": [{"b": {"c": [[[[[[[[[[[[[[1]]]]]]]]]]]]]]}}]}}, "configuration"),
    ({"label": "x" * 41}, "label"),
    ({"state": "approved"}, "state"),
])
def test_it_refuses_bad_release_fields(owner, body, field):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    response = api(owner).post(RELEASES, {"agent": agent.slug, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Release.objects.exists()


# --- Lists do not grow their queries with their rows ----------------------------------------

def _list_queries(user, url) -> tuple[int, int]:
    client = api(User.objects.get(pk=user.pk))  # a fresh user: no permission cache carried over
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize("persona", ["owner", "compliance"])
def test_it_lists_agents_in_constant_queries(request, owner, persona):
    viewer = request.getfixturevalue(persona)
    for n in range(5):
        make_agent(owner, name=f"Agent {n}", technical_owner=owner)
    few, shown = _list_queries(viewer, AGENTS)
    assert shown == 5
    for n in range(5, 50):
        make_agent(owner, name=f"Agent {n}", technical_owner=owner)
    many, shown = _list_queries(viewer, AGENTS)
    assert shown == 50
    assert many == few


def test_it_lists_releases_and_components_in_constant_queries(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    make_release(agent)
    few = [_list_queries(owner, url)[0] for url in (RELEASES, "/api/v1/models/")]
    for _ in range(5):
        make_release(agent)
    many = [_list_queries(owner, url)[0] for url in (RELEASES, "/api/v1/models/")]
    assert many == few
