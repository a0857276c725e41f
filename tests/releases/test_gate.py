"""The release gate lists exactly what is missing, one condition at a time; a high-tier release
is approved only when all of them hold."""

import pytest

from almportal.accounts.roles import Role
from almportal.inventory import services as inventory
from almportal.releases import services
from almportal.releases.choices import ItemStatus, ReleaseState

from .helpers import Signers, complete_checklist, high_release, passing_run, sign, sign_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, compliance, delegate):
    return high_release(owner, compliance, delegate)


@pytest.fixture
def signers(owner, security, compliance, compliance2):
    return Signers(owner, security, compliance, compliance2)


def missing(release, key):
    release.refresh_from_db()
    return services.release_gate(release).condition(key).missing


def test_it_makes_the_checklist_from_the_high_tier_template_on_submission(release):
    keys = set(release.checklist_items.values_list("key", flat=True))
    assert {"least_privilege", "kill_switch_tested", "prompt_injection_tested",
            "evaluation_passed", "latency_target", "budget_set", "cost_per_task"} <= keys
    pillars = set(release.checklist_items.values_list("pillar", flat=True))
    assert pillars == {"security_access", "performance_accuracy", "cost"}


def test_a_fresh_release_fails_every_condition_but_the_assessment(release):
    gate = services.release_gate(release)
    assert not gate.passed
    assert [c.key for c in gate.conditions if not c.passed] == [
        "checklist", "evaluations", "signoffs"]
    assert gate.condition("risk_assessment").missing == []


def test_it_names_a_stale_assessment(release, owner):
    inventory.agent_update(actor=owner, agent=release.agent, data={"audience": "public"})
    assert any("Audience" in m or "audience" in m for m in missing(release, "risk_assessment"))


def test_it_names_each_checklist_item_without_evidence_or_review(release, compliance):
    complete_checklist(release, compliance, leave=1)
    last = release.checklist_items.order_by("order").last()
    assert missing(release, "checklist") == [
        f"{last.title}: no evidence.", f"{last.title}: not accepted by a reviewer (open)."]


def test_it_names_a_missing_run_then_a_failed_threshold(release):
    assert missing(release, "evaluations") == ["No evaluation run on this release's manifest."]
    passing_run(release, groundedness=0.7)
    assert missing(release, "evaluations") == [
        "regression: Groundedness 0.7 is below the minimum 0.9."]
    passing_run(release)
    assert missing(release, "evaluations") == []


def test_it_names_each_role_short_of_quorum(release, signers):
    assert missing(release, "signoffs") == ["Security reviewer: 0 of 1 sign-offs.",
                                            "Compliance officer: 0 of 2 sign-offs.",
                                            "Business owner: 0 of 1 sign-offs."]
    sign(release, signers.security, Role.SECURITY)
    sign(release, signers.compliance, Role.COMPLIANCE)
    assert missing(release, "signoffs") == ["Compliance officer: 1 of 2 sign-offs.",
                                            "Business owner: 0 of 1 sign-offs."]


def test_it_is_not_approved_until_the_checklist_is_complete(release, signers, compliance):
    passing_run(release)
    sign_all(release, signers)
    complete_checklist(release, compliance, leave=1)
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED
    item = release.checklist_items.order_by("order").last()
    complete_item = release.agent.business_owner
    from .helpers import add_link

    add_link(item, complete_item)
    item = services.checklist_item_assign(actor=complete_item, item=item, reviewer=compliance)
    item = services.checklist_item_set_status(actor=complete_item, item=item,
                                              status=ItemStatus.IN_REVIEW)
    services.checklist_item_set_status(actor=compliance, item=item, status=ItemStatus.ACCEPTED)
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED
    assert release.history.filter(state=ReleaseState.APPROVED).count() == 1


def test_it_is_not_approved_until_the_evaluations_pass(release, signers, compliance):
    complete_checklist(release, compliance)
    sign_all(release, signers)
    passing_run(release, task_success_rate=0.5)
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED
    passing_run(release)
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED


def test_it_is_approved_by_the_last_signature_once_everything_else_holds(release, signers,
                                                                        compliance):
    complete_checklist(release, compliance)
    passing_run(release)
    sign(release, signers.security, Role.SECURITY)
    sign(release, signers.compliance, Role.COMPLIANCE)
    sign(release, signers.owner, Role.BUSINESS_OWNER)
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED
    assert missing(release, "signoffs") == ["Compliance officer: 1 of 2 sign-offs."]
    sign(release, signers.compliance2, Role.COMPLIANCE)
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED
    assert services.release_gate(release).passed
    assert release.signoffs.filter(manifest_hash=release.manifest_hash).count() == 4
