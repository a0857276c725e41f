"""When what an approval rested on changes, the request is voided or its sign-offs stop
counting; signers are told and history says why."""

import datetime as dt

import pytest

from almportal.accounts.roles import Role
from almportal.inventory import services as inventory
from almportal.releases import services
from almportal.releases.choices import ReleaseState
from almportal.releases.models import SignOff

from ..factories import make_model, make_release
from .helpers import (
    Signers,
    add_link,
    complete_checklist,
    high_release,
    passing_run,
    sign,
    sign_all,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, compliance, delegate):
    return high_release(owner, compliance, delegate)


def test_a_new_version_of_a_pinned_component_voids_the_request(release, owner, security,
                                                               compliance):
    sign(release, security, Role.SECURITY)
    sign(release, compliance, Role.COMPLIANCE)
    make_model(release.agent, pinned_version="2026-09-01")  # main-model v2
    release.refresh_from_db()
    assert release.state == ReleaseState.VOIDED
    assert "main-model was added (v2); this release pins v1" in \
        release.history.first().history_change_reason
    signoffs = SignOff.objects.filter(release=release)
    assert all(s.voided_at is not None for s in signoffs)
    assert services.valid_approvals(release) == []
    assert "main-model" in signoffs.first().history.first().history_change_reason
    assert security.notifications.filter(kind="signoff-voided").exists()
    assert "voided" in " ".join(services.release_gate(release).missing)


def test_a_change_after_approval_voids_the_approval(owner, compliance, compliance2, security,
                                                     delegate):
    release = high_release(owner, compliance, delegate)
    complete_checklist(release, compliance)
    passing_run(release)
    sign_all(release, Signers(owner, security, compliance, compliance2))
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED
    make_model(release.agent, pinned_version="2026-09-01")
    release.refresh_from_db()
    assert release.state == ReleaseState.VOIDED
    assert compliance2.notifications.filter(kind="signoff-voided").exists()


def test_a_new_component_the_release_does_not_pin_changes_nothing(release, security):
    sign(release, security, Role.SECURITY)
    make_model(release.agent, name="fallback-model")
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED
    assert len(services.valid_approvals(release)) == 1


def test_a_stale_assessment_voids_the_sign_offs_given(release, owner, security):
    sign(release, security, Role.SECURITY)
    inventory.agent_update(actor=owner, agent=release.agent, data={"audience": "public"})
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED
    assert services.valid_approvals(release) == []
    assert "risk assessment is no longer current" in \
        release.history.first().history_change_reason
    assert security.notifications.filter(kind="signoff-voided").exists()


def test_replaced_evidence_voids_the_sign_offs_and_reopens_the_review(release, owner, security,
                                                                     compliance):
    complete_checklist(release, compliance)
    sign(release, security, Role.SECURITY)
    item = release.checklist_items.first()
    old = item.evidence.get()
    new = add_link(item, owner, replaces=old)
    old.refresh_from_db()
    item.refresh_from_db()
    assert old.superseded_by == new and old.replaced_at is not None
    assert item.status == "in_review"
    assert services.valid_approvals(release) == []
    assert "evidence" in SignOff.objects.get(release=release).void_reason


def test_a_newer_release_supersedes_the_pending_request(release, owner, delegate, security):
    sign(release, security, Role.SECURITY)
    same = {kind: [e["id"] for e in entries]
            for kind, entries in release.manifest["components"].items()}
    newer = services.release_create(actor=owner, agent=release.agent, label="1.1",
                                     configuration={"max_tokens": 900}, components=same)
    services.release_submit(actor=delegate, release=newer)
    release.refresh_from_db()
    assert release.state == ReleaseState.VOIDED
    assert f"Superseded by release {newer.display_version}" in \
        release.history.first().history_change_reason


# --- A tier policy changed, an assessment passed its period (rules.release_standing) -------

def _policy_raised(admin, tier: str, reason: str = "Two compliance officers sign from now on"):
    from almportal.risk import services as risk
    from almportal.risk.models import TierPolicy

    policy = TierPolicy.objects.get(tier=tier)
    policy.signoff_roles = {**policy.signoff_roles, Role.COMPLIANCE: 2}
    return risk.tier_policy_update(actor=admin, policy=policy, reason=reason)


def _submitted_and_signed(team):
    agent = team.agent()
    release = services.release_submit(actor=team.delegate,
                                       release=make_release(agent, actor=team.delegate))
    sign(release, team.owner, Role.BUSINESS_OWNER)
    return release


def _state(release) -> str:
    release.refresh_from_db()
    return release.state


def _assessment_of(release):
    from almportal.risk.selectors import latest_completed

    return latest_completed(release.agent)


def _past_its_period(release):
    from almportal.risk.selectors import tier_policy

    assessment = _assessment_of(release)
    days = tier_policy(assessment.tier).reassessment_days
    return assessment.completed_at + dt.timedelta(days=days, hours=1)


@pytest.fixture
def team(owner, compliance):
    from ..operations.helpers import Team

    return Team(owner, compliance)


def test_a_tier_policy_change_voids_approvals_and_reopens_requests_of_that_tier_only(
        team, admin_user, owner, compliance, security, delegate):
    agent, deployed = team.live()
    approved = team.approved_release(agent)
    submitted = _submitted_and_signed(team)
    other_tier = high_release(owner, compliance, delegate)
    sign(other_tier, security, Role.SECURITY)
    tier = agent.risk_tier
    assert other_tier.agent.risk_tier != tier

    _policy_raised(admin_user, tier)

    assert _state(approved) == ReleaseState.VOIDED
    reason = approved.history.first().history_change_reason
    assert reason.startswith("Voided: Approved under earlier terms: the ")
    assert "tier policy changed on" in reason and "(signoff roles)" in reason
    assert "Two compliance officers sign from now on" in reason
    assert _state(deployed) == ReleaseState.DEPLOYED
    assert _state(submitted) == ReleaseState.SUBMITTED
    kept = SignOff.objects.get(release=submitted)  # on record, no longer counting
    assert kept.voided_at is not None and "Signed under earlier terms" in kept.void_reason
    assert services.valid_approvals(submitted) == []
    assert "Sign-offs voided: Signed under earlier terms" in \
        submitted.history.first().history_change_reason
    assert owner.notifications.filter(kind="signoff-voided").exists()
    assert _state(other_tier) == ReleaseState.SUBMITTED
    assert len(services.valid_approvals(other_tier)) == 1


def test_a_policy_change_outside_the_approval_terms_voids_nothing(team, admin_user):
    from almportal.risk import services as risk
    from almportal.risk.models import TierPolicy

    agent = team.agent()
    approved = team.approved_release(agent)
    policy = TierPolicy.objects.get(tier=agent.risk_tier)
    policy.description, policy.dormancy_days = "Reworded", policy.dormancy_days + 1
    risk.tier_policy_update(actor=admin_user, policy=policy, reason="Wording")
    assert _state(approved) == ReleaseState.APPROVED
    assert services.release_standing(approved).holds


def test_sign_offs_given_after_the_policy_change_count(team, admin_user):
    submitted = _submitted_and_signed(team)
    _policy_raised(admin_user, submitted.agent.risk_tier)
    sign(submitted, team.owner, Role.BUSINESS_OWNER)
    assert len(services.valid_approvals(submitted)) == 1
    assert services.release_standing(submitted).holds


def test_the_sweep_voids_an_approval_whose_assessment_passed_its_period(team):
    from almportal.releases import voiding

    agent, deployed = team.live()
    approved = team.approved_release(agent)
    before = _past_its_period(approved) - dt.timedelta(days=1)
    assert voiding.releases_sweep(now=before) == []
    assert _state(approved) == ReleaseState.APPROVED

    voided = voiding.releases_sweep(now=_past_its_period(approved))

    assert [r.pk for r in voided] == [approved.pk]
    assert _state(approved) == ReleaseState.VOIDED
    row = approved.history.first()
    assert row.history_user.username == "system"
    assert row.history_change_reason.startswith(
        "Voided: The risk assessment is no longer current: Older than the ")
    assert _state(deployed) == ReleaseState.DEPLOYED
    told = team.owner.notifications.filter(kind="signoff-voided")
    assert told.count() == 1
    assert voiding.releases_sweep(now=_past_its_period(approved)) == []  # idempotent
    assert told.count() == 1
    assert approved.history.filter(state=ReleaseState.VOIDED).count() == 1


def test_the_sweep_voids_the_sign_offs_of_a_request_past_its_assessment(team):
    from almportal.releases import voiding

    submitted = _submitted_and_signed(team)
    voiding.releases_sweep(now=_past_its_period(submitted))
    assert _state(submitted) == ReleaseState.SUBMITTED
    assert services.valid_approvals(submitted) == []
    assert voiding.releases_sweep(now=_past_its_period(submitted)) == []


def test_the_sweep_runs_daily_from_beat():
    from almportal.celery import app

    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["releases-standing-sweep"]
    assert entry["task"] == "almportal.releases.tasks.releases_sweep"
    assert entry["task"] in app.tasks


def test_a_voiding_enters_the_audit_ledger(team, admin_user):
    from almportal.audit.models import LedgerEntry
    from almportal.audit.services import ledger_catch_up

    approved = team.approved_release(team.agent())
    _policy_raised(admin_user, approved.agent.risk_tier)
    ledger_catch_up()
    entry = LedgerEntry.objects.filter(object_model="inventory.release",
                                       object_pk=str(approved.pk)).order_by("-seq").first()
    assert entry.reason.startswith("Voided: Approved under earlier terms")
    assert entry.actor == admin_user


def test_a_tier_raised_by_reassessment_reopens_the_request(release, owner, security,
                                                           compliance):
    from almportal.risk import services as risk

    sign(release, security, Role.SECURITY)
    risk.assessment_set_tier(actor=compliance, assessment=_assessment_of(release),
                             tier="critical", justification="Moves to payroll data")
    signoff = SignOff.objects.get(release=release)
    assert signoff.voided_at is not None
    assert "risk tier changed from high to critical" in signoff.void_reason


def test_the_pages_and_the_api_say_why_a_release_was_voided(client, team, admin_user, owner):
    approved = team.approved_release(team.agent())
    _policy_raised(admin_user, approved.agent.risk_tier)
    client.force_login(owner)
    body = client.get(f"/api/v1/releases/{approved.pk}/gate/").json()
    assert body["passed"] is False
    assert body["standing"]["action"] == "voided"
    assert "Two compliance officers sign from now on" in body["standing"]["reason"]
    page = client.get(approved.get_absolute_url()).content.decode()
    assert 'data-standing="voided"' in page
    assert "Two compliance officers sign from now on" in page


def test_an_approval_past_its_assessment_is_refused_production_before_the_sweep(
        client, team, owner):
    from almportal.core.errors import DomainError
    from almportal.operations import services as operations
    from almportal.risk.models import Assessment

    from ..operations.helpers import env

    approved = team.approved_release(team.agent())
    Assessment.objects.filter(pk=_assessment_of(approved).pk).update(
        completed_at=_assessment_of(approved).completed_at - dt.timedelta(days=400))
    client.force_login(owner)
    body = client.get(f"/api/v1/releases/{approved.pk}/gate/").json()
    assert body["standing"]["action"] == "void" and body["passed"] is False
    with pytest.raises(DomainError) as refused:
        operations.deployment_start(actor=owner, agent=approved.agent,
                                    environment=env("production"), strategy="all_at_once",
                                    routes=[operations.RouteSpec(approved)], reason="Launch")
    assert "This approval no longer stands." in " ".join(refused.value.errors["release"])
    assert _state(approved) == ReleaseState.APPROVED  # the sweep voids it, not the refusal
