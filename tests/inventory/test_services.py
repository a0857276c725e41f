import pytest

from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.inventory import services
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent, Prompt
from almportal.inventory.selectors import agent_history, agents_visible_to
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState

from ..factories import intake_data, make_agent, make_model, make_prompt, make_release

pytestmark = pytest.mark.django_db


def test_it_drafts_an_intake_owned_by_its_filer(owner):
    agent = services.agent_create(actor=owner, data=intake_data())
    assert agent.stage == Stage.DRAFT
    assert agent.business_owner == owner
    assert owner.has_perm("inventory.change_agent", agent)
    assert agent.history.get().history_user == owner


def test_it_hides_a_draft_from_another_owner(agent, other_owner, compliance, auditor):
    assert agent not in agents_visible_to(other_owner)
    assert agent in agents_visible_to(agent.business_owner)
    assert agent in agents_visible_to(compliance)
    assert agent in agents_visible_to(auditor)


def test_it_submits_and_accepts(owner, compliance):
    agent = make_agent(owner, Stage.PROPOSED)
    services.agent_accept(actor=compliance, agent=agent, reason="Fits the roadmap")
    agent.refresh_from_db()
    assert agent.stage == Stage.IN_DEVELOPMENT
    assert agent.history.first().history_change_reason == "Fits the roadmap"


def test_it_requires_a_reason_to_decline(owner, compliance):
    agent = make_agent(owner, Stage.PROPOSED)
    with pytest.raises(DomainError):
        services.agent_decline(actor=compliance, agent=agent, reason=" ")
    agent.refresh_from_db()
    assert agent.stage == Stage.PROPOSED


def test_it_refuses_triage_by_owner_or_non_compliance(owner, other_owner, auditor):
    agent = make_agent(owner, Stage.PROPOSED)
    for actor in (owner, other_owner, auditor):
        with pytest.raises(NotPermitted):
            services.agent_accept(actor=actor, agent=agent)


def test_it_refuses_an_illegal_move(owner, compliance):
    agent = make_agent(owner)  # still a draft
    with pytest.raises(Conflict):
        services.agent_accept(actor=compliance, agent=agent)


def test_it_refuses_auditor_writes(agent, auditor):
    with pytest.raises(NotPermitted):
        services.agent_update(actor=auditor, agent=agent, data={"name": "x"})


def test_it_rejects_unknown_choices_and_writes_nothing(owner):
    with pytest.raises(DomainError) as exc:
        services.agent_create(actor=owner, data=intake_data(audience="martians"))
    assert "audience" in exc.value.errors
    assert not Agent.objects.exists()


def test_a_new_prompt_version_is_a_new_row(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    first = make_prompt(agent, text="one")
    second = make_prompt(agent, text="two")
    assert (first.version, second.version) == (1, 2)
    assert Prompt.objects.get(pk=first.pk).text == "one"


def test_the_manifest_hash_depends_only_on_content(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    model, prompt = make_model(agent), make_prompt(agent)
    a = release_services.release_create(actor=owner, agent=agent, configuration={"a": 1, "b": 2},
                                components={"prompts": [prompt.pk], "models": [model.pk]})
    b = release_services.release_create(actor=owner, agent=agent, configuration={"b": 2, "a": 1},
                                components={"models": [model.pk], "prompts": [prompt.pk]})
    assert a.manifest_hash == b.manifest_hash
    newer = make_prompt(agent, text="changed")
    c = release_services.release_update(actor=owner, release=b, components={"prompts": [newer.pk]})
    assert c.manifest_hash != a.manifest_hash


def test_a_submitted_release_is_frozen(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    release_services.release_submit(actor=owner, release=release)
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED
    with pytest.raises(Conflict):
        release_services.release_update(actor=owner, release=release, notes="sneaky")


def test_history_shows_field_level_changes(owner):
    agent = make_agent(owner)
    services.agent_update(actor=owner, agent=agent, data={"name": "Handbook helper"},
                          reason="Clearer name")
    entry = agent_history(agent)[0]
    assert entry.user == owner and entry.reason == "Clearer name"
    assert [(c.field, c.old, c.new) for c in entry.changes] == [
        ("name", "Internal FAQ assistant", "Handbook helper")]


def test_security_revokes_any_grant_and_others_cannot(owner, security, other_owner, auditor):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    credential = services.component_add_version(
        actor=owner, agent=agent, kind="credentials",
        data={"name": "crm", "identity": "svc-crm", "scopes": ["crm.read"], "granted_by": "IT"})
    for outsider in (other_owner, auditor):
        with pytest.raises(NotPermitted):
            services.credential_revoke(actor=outsider, credential=credential, reason="no")
    services.credential_revoke(actor=security, credential=credential, reason="Unused")
    credential.refresh_from_db()
    assert credential.revoked_by == security
