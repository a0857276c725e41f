import json
from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.risk import selectors, services
from almportal.risk.models import Assessment, Questionnaire, TierPolicy

from ..conftest import client_for
from ..factories import make_agent
from .helpers import assessed

pytestmark = pytest.mark.django_db


def _policy_form(policy: TierPolicy, **changes) -> dict:
    data = {
        "description": policy.description,
        "checklist_template": json.dumps(policy.checklist_template),
        "signoff_roles": json.dumps(policy.signoff_roles),
        "signoff_order": json.dumps(policy.signoff_order),
        "evaluation_thresholds": json.dumps(policy.evaluation_thresholds),
        "regression_margin": policy.regression_margin,
        "access_review_days": policy.access_review_days,
        "reassessment_days": policy.reassessment_days,
        "dormancy_days": policy.dormancy_days,
        "monitoring_thresholds": json.dumps(policy.monitoring_thresholds),
        "reason": "",
    }
    data.update(changes)
    return data


def test_an_admin_changes_a_policy_in_django_admin(client, admin_user, owner, compliance):
    assessment = assessed(owner, compliance)  # low: reassess within 365 days
    Assessment.objects.filter(pk=assessment.pk).update(
        completed_at=timezone.now() - timedelta(days=45))
    assert selectors.assessment_status(assessment.agent).is_current
    policy = TierPolicy.objects.get(tier="low")
    client_for(client, admin_user)
    response = client.post(f"/admin/risk/tierpolicy/{policy.pk}/change/", _policy_form(
        policy, reassessment_days=30, signoff_roles=json.dumps(
            {"business_owner": 1, "compliance_officer": 1}),
        reason="Audit finding: reassess low-tier agents monthly"))
    assert response.status_code == 302, response.content
    policy.refresh_from_db()
    assert policy.reassessment_days == 30
    row = policy.history.first()
    assert row.history_user == admin_user
    assert row.history_change_reason == "Audit finding: reassess low-tier agents monthly"
    assert policy.history.count() == 3  # seeded, aligned with release readiness, changed
    status = selectors.assessment_status(assessment.agent)
    assert status.is_stale and "30 days" in status.reasons[0]


def test_an_invalid_policy_shows_errors_and_changes_nothing(client, admin_user):
    policy = TierPolicy.objects.get(tier="high")
    client_for(client, admin_user)
    response = client.post(f"/admin/risk/tierpolicy/{policy.pk}/change/", _policy_form(
        policy, signoff_roles=json.dumps({"astrologer": 1}), reason="Try"))
    assert response.status_code == 200
    assert b"signoff_roles" in response.content or b"quorum" in response.content
    policy.refresh_from_db()
    assert "astrologer" not in policy.signoff_roles
    assert policy.history.count() == 2  # seeded, aligned with release readiness


def test_a_policy_change_needs_a_reason(client, admin_user):
    policy = TierPolicy.objects.get(tier="medium")
    client_for(client, admin_user)
    response = client.post(f"/admin/risk/tierpolicy/{policy.pk}/change/",
                           _policy_form(policy, reassessment_days=10))
    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.reassessment_days == 180


def test_a_published_questionnaire_is_frozen_in_admin(client, admin_user):
    v1 = Questionnaire.objects.get(version=1)
    client_for(client, admin_user)
    response = client.get(f"/admin/risk/questionnaire/{v1.pk}/change/")
    assert response.status_code == 200
    assert b"Copy as a new version" in response.content
    response = client.post(f"/admin/risk/questionnaire/{v1.pk}/change/",
                           {"version": 1, "title": "Changed"})
    assert response.status_code == 403
    question = v1.questions.first()
    response = client.post(f"/admin/risk/question/{question.pk}/change/", {"text": "Changed"})
    assert response.status_code == 403


def test_changes_go_into_a_new_version_used_from_publication(client, admin_user, owner,
                                                             compliance):
    earlier = assessed(owner, compliance)
    v1 = Questionnaire.objects.get(version=1)
    client_for(client, admin_user)
    response = client.post("/admin/risk/questionnaire/", {
        "action": "copy_as_new_version", "_selected_action": [v1.pk]})
    assert response.status_code == 302
    v2 = Questionnaire.objects.get(version=2)
    assert v2.questions.count() == v1.questions.count() and not v2.is_published
    question = v2.questions.get(key="scale")
    response = client.get(f"/admin/risk/question/{question.pk}/change/")
    assert response.status_code == 200
    services.questionnaire_publish(actor=admin_user, questionnaire=v2)
    assert selectors.current_questionnaire().version == 2
    later = services.assessment_draft(actor=owner, agent=make_agent(owner))
    assert later.questionnaire.version == 2
    earlier.refresh_from_db()
    assert earlier.questionnaire.version == 1
