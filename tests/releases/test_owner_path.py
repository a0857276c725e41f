"""The owner's own path: the business owner's submission is their sign-off; a manifest
submitted again carries its checklist evidence and evaluation runs over, never its sign-offs."""

import pytest

from almportal.accounts.models import Notification
from almportal.accounts.roles import Role
from almportal.inventory import services as inventory
from almportal.releases import services
from almportal.releases.choices import Decision, ItemStatus, ReleaseState
from almportal.releases.models import EvaluationRun, Evidence, SignOff

from ..conftest import client_for
from ..factories import make_release
from ..risk.helpers import assessed
from .helpers import complete_checklist, high_release, passing_run, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(owner, compliance):
    from almportal.inventory.choices import Stage

    return assessed(owner, compliance, stage=Stage.IN_DEVELOPMENT, tier="high",
                    justification="Handles HR records").agent


def _owner_submits(agent, owner, **kwargs):
    return services.release_submit(actor=owner, release=make_release(agent, actor=owner,
                                                                      **kwargs))


def test_the_owners_submission_is_their_business_owner_signoff(agent, owner):
    release = _owner_submits(agent, owner)
    signoff = SignOff.objects.get(release=release)
    assert (signoff.user, signoff.role, signoff.decision) == (owner, Role.BUSINESS_OWNER,
                                                              Decision.APPROVE)
    assert signoff.manifest_hash == release.manifest_hash
    history = signoff.history.get()
    assert history.history_user == owner
    assert history.history_change_reason == ("Approved as business owner by submitting the "
                                             "release")


def test_the_gate_shows_the_owners_signoff_from_submission(client, agent, owner):
    release = _owner_submits(agent, owner)
    condition = services.release_gate(release).condition("signoffs")
    assert f"Business owner: {owner} (by submitting the release)" in condition.done
    assert "Business owner: 0 of 1 sign-offs." not in condition.missing
    client_for(client, owner)
    gate = client.get(f"/api/v1/releases/{release.pk}/gate/").json()
    signoffs = next(c for c in gate["conditions"] if c["key"] == "signoffs")
    assert f"Business owner: {owner} (by submitting the release)" in signoffs["done"]


def test_the_owner_who_submitted_is_told_why_they_sign_nothing_more(client, agent, owner):
    release = _owner_submits(agent, owner)
    client_for(client, owner)
    page = client.get(release.get_absolute_url()).content.decode().replace("&#x27;", "'")
    assert "You already signed this release as business owner: one person fills one role." in page
    assert f'action="{release.get_absolute_url()}sign/"' not in page


def test_a_delegates_submission_still_needs_the_owner(owner, compliance, delegate):
    release = high_release(owner, compliance, delegate)
    assert not SignOff.objects.filter(release=release).exists()
    assert "Business owner: 0 of 1 sign-offs." in services.release_gate(release).missing


def test_the_submission_signoff_is_voided_like_any_other(agent, owner):
    release = _owner_submits(agent, owner)
    services.release_void(actor=owner, release=release, reason="Wrong model pinned")
    signoff = SignOff.objects.get(release=release)
    assert signoff.voided_at is not None
    assert signoff.void_reason == "Wrong model pinned"


# --- Carrying work over ---------------------------------------------------------------------

@pytest.fixture
def worked_release(owner, compliance, delegate, security):
    """A release submitted by a delegate with its checklist accepted, a CI run, and two
    sign-offs."""
    release = high_release(owner, compliance, delegate)
    passing_run(release)
    complete_checklist(release, security)
    sign(release, security, Role.SECURITY)
    return release


def _same_manifest(release, actor):
    components = {kind: list(getattr(release, rel).values_list("pk", flat=True))
                  for kind, rel in release.COMPONENT_RELATIONS.items()}
    again = services.release_create(actor=actor, agent=release.agent, components=components)
    assert again.manifest_hash == release.manifest_hash
    return services.release_submit(actor=actor, release=again)


def test_a_manifest_submitted_again_carries_evidence_and_runs_but_no_signoffs(
        worked_release, owner, security):
    again = _same_manifest(worked_release, owner)
    worked_release.refresh_from_db()
    assert worked_release.state == ReleaseState.VOIDED
    assert Evidence.objects.filter(item__release=again).count() == Evidence.objects.filter(
        item__release=worked_release, replaced_at__isnull=True).count()
    assert set(again.checklist_items.values_list("status", flat=True)) == {ItemStatus.ACCEPTED}
    assert EvaluationRun.objects.filter(release=again).count() == 1
    signers = set(SignOff.objects.filter(release=again).values_list("user__username", "role"))
    assert signers == {(owner.username, Role.BUSINESS_OWNER)}  # only the owner's submission
    gate = services.release_gate(again)
    assert gate.condition("checklist").passed and gate.condition("evaluations").passed
    assert not gate.condition("signoffs").passed


def test_it_says_what_was_carried_over(worked_release, owner):
    again = _same_manifest(worked_release, owner)
    said = again.history.filter(history_change_reason__startswith="Carried over").get()
    assert "which had the same manifest" in said.history_change_reason
    assert "its sign-offs do not carry over" in said.history_change_reason
    assert Notification.objects.filter(user=owner, kind="release-carried-over").exists()


def test_the_owner_gets_from_resubmission_to_approval(worked_release, owner, security,
                                                      compliance2):
    again = _same_manifest(worked_release, owner)
    carla_signed_before = worked_release.signoffs.filter(role=Role.COMPLIANCE).exists()
    assert not carla_signed_before
    from ..factories import make_user

    sign(again, security, Role.SECURITY)
    sign(again, compliance2, Role.COMPLIANCE)
    sign(again, make_user(Role.COMPLIANCE, username="third"), Role.COMPLIANCE)
    again.refresh_from_db()
    assert again.state == ReleaseState.APPROVED


def test_a_reviewer_now_involved_does_not_carry_their_acceptance(worked_release, owner,
                                                                 security):
    inventory.agent_add_delegate(actor=owner, agent=worked_release.agent, user=security)
    again = _same_manifest(worked_release, owner)
    assert set(again.checklist_items.values_list("status", flat=True)) == {ItemStatus.OPEN}
    assert Evidence.objects.filter(item__release=again).exists()
