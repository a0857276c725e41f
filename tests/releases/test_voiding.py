"""When what an approval rested on changes, the request is voided or its sign-offs stop
counting; signers are told and history says why."""

import pytest

from almportal.accounts.roles import Role
from almportal.inventory import services as inventory
from almportal.inventory.choices import ReleaseState
from almportal.releases import services
from almportal.releases.models import SignOff

from ..factories import make_model
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
    newer = inventory.release_create(actor=owner, agent=release.agent, label="1.1",
                                     configuration={"max_tokens": 900}, components=same)
    inventory.release_submit(actor=delegate, release=newer)
    release.refresh_from_db()
    assert release.state == ReleaseState.VOIDED
    assert f"Superseded by release {newer.display_version}" in \
        release.history.first().history_change_reason
