"""Segregation of duties, each rule refused with a clear message at the service, in the page
and in the API; role order; rejection back to draft."""

import pytest

from almportal.accounts.roles import Role
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.releases.choices import Decision, ReleaseState
from almportal.releases.models import SignOff

from ..conftest import client_for
from ..factories import make_user
from .helpers import high_release, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, compliance, delegate):
    return high_release(owner, compliance, delegate)


@pytest.fixture
def dual(db):
    """A person holding both the compliance and the security role."""
    user = make_user(Role.COMPLIANCE, username="dual")
    from django.contrib.auth.models import Group

    from almportal.accounts.roles import GROUP_NAMES

    user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.SECURITY]))
    return user


SUBMITTER = "Only the agent's business owner signs as business owner."
OWNER_ONLY = "You do not hold the security reviewer role, so you may not sign for it."
NOT_HELD = "You do not hold the compliance officer role, so you may not sign for it."
ONE_ROLE = "You already signed this release as security reviewer: one person fills one role."


def _rules(release, delegate, owner, security, dual):
    """(actor, role, expected message, set-up) for each rule."""
    return {
        "submitter": (delegate, Role.BUSINESS_OWNER, SUBMITTER, None),
        "owner_only_as_owner": (owner, Role.SECURITY, OWNER_ONLY, None),
        "role_not_held": (security, Role.COMPLIANCE, NOT_HELD, None),
        "one_person_one_role": (dual, Role.COMPLIANCE, ONE_ROLE,
                                lambda: sign(release, dual, Role.SECURITY)),
    }


RULES = ["submitter", "owner_only_as_owner", "role_not_held", "one_person_one_role"]


@pytest.mark.parametrize("rule", RULES)
def test_the_service_refuses_each_segregation_rule(rule, release, delegate, owner, security, dual):
    actor, role, message, setup = _rules(release, delegate, owner, security, dual)[rule]
    if setup:
        setup()
    before = SignOff.objects.count()
    with pytest.raises(NotPermitted) as refused:
        sign(release, actor, role)
    assert message in refused.value.message
    assert SignOff.objects.count() == before


@pytest.mark.parametrize("rule", RULES)
def test_the_page_refuses_each_segregation_rule(rule, client, release, delegate, owner, security,
                                                dual):
    actor, role, message, setup = _rules(release, delegate, owner, security, dual)[rule]
    if setup:
        setup()
    before = SignOff.objects.count()
    client_for(client, actor)
    response = client.post(f"{release.get_absolute_url()}sign/",
                           {"role": role, "decision": Decision.APPROVE, "comment": ""})
    assert response.status_code == 403
    assert message in response.content.decode().replace("&#x27;", "'")
    assert SignOff.objects.count() == before


@pytest.mark.parametrize("rule", RULES)
def test_the_api_refuses_each_segregation_rule(rule, client, release, delegate, owner, security,
                                               dual):
    actor, role, message, setup = _rules(release, delegate, owner, security, dual)[rule]
    if setup:
        setup()
    before = SignOff.objects.count()
    client_for(client, actor)
    response = client.post("/api/v1/signoffs/", {"release": release.pk, "role": role,
                                                 "decision": "approve"},
                           content_type="application/json")
    assert response.status_code == 403
    assert message in response.json()["detail"]
    assert SignOff.objects.count() == before


def test_it_records_the_manifest_hash_the_signer_approved(release, security):
    signoff = sign(release, security, Role.SECURITY)
    assert signoff.manifest_hash == release.manifest_hash


def test_the_policy_orders_security_before_compliance(release, compliance, security):
    with pytest.raises(Conflict, match="Security reviewer sign-offs come first"):
        sign(release, compliance, Role.COMPLIANCE)
    sign(release, security, Role.SECURITY)
    sign(release, compliance, Role.COMPLIANCE)


def test_it_refuses_a_signature_beyond_the_quorum(release, security):
    sign(release, security, Role.SECURITY)
    other = make_user(Role.SECURITY, username="sid")
    with pytest.raises(Conflict, match="quorum of 1 is already reached"):
        sign(release, other, Role.SECURITY)


def test_it_refuses_a_role_the_tier_does_not_ask_for(release, admin_user):
    with pytest.raises(DomainError, match="asks for sign-offs from"):
        sign(release, admin_user, Role.ADMIN)


def test_a_rejection_needs_a_reason(release, security):
    with pytest.raises(DomainError, match="Say why"):
        sign(release, security, Role.SECURITY, Decision.REJECT)


def test_a_rejection_sends_the_release_back_to_draft_with_the_reasons(release, security,
                                                                      compliance, owner):
    sign(release, security, Role.SECURITY)
    sign(release, compliance, Role.COMPLIANCE, Decision.REJECT, "No red-team report attached")
    release.refresh_from_db()
    assert release.state == ReleaseState.DRAFT
    states = list(release.history.order_by("history_id").values_list("state", flat=True))
    assert states[-2:] == [ReleaseState.REJECTED, ReleaseState.DRAFT]
    assert "No red-team report attached" in release.history.first().history_change_reason
    assert not SignOff.objects.filter(release=release, voided_at__isnull=True).exists()
    assert owner.notifications.filter(kind="release-rejected").exists()
    assert security.notifications.filter(kind="release-rejected").exists()


def test_a_draft_release_is_not_signed(release, security):
    sign(release, security, Role.SECURITY, Decision.REJECT, "Not ready")
    with pytest.raises(Conflict, match="only a submitted release is signed"):
        sign(release, security, Role.SECURITY)
