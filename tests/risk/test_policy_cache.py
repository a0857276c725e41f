"""The tier policies most pages read come from the cache, and a change to a policy applies at
once, whichever path makes it."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from almportal.risk.models import TierPolicy
from almportal.risk.selectors import policies_by_tier, tier_policy

from ..conftest import client_for
from .test_admin import _policy_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cached(settings):
    settings.TIER_POLICY_CACHE_SECONDS = 300


def test_the_policies_are_read_once_then_from_the_cache():
    assert set(policies_by_tier()) == set(TierPolicy.objects.values_list("tier", flat=True))
    with CaptureQueriesContext(connection) as captured:
        assert tier_policy("high").tier == "high"
        policies_by_tier()
    assert len(captured) == 0


def test_a_saved_policy_applies_at_once():
    assert tier_policy("low").reassessment_days != 30
    policy = TierPolicy.objects.get(tier="low")
    policy.reassessment_days = 30
    policy.save()
    assert tier_policy("low").reassessment_days == 30


def test_a_policy_changed_in_django_admin_applies_at_once(client, admin_user):
    assert tier_policy("medium").reassessment_days != 10
    policy = TierPolicy.objects.get(tier="medium")
    client_for(client, admin_user)
    response = client.post(f"/admin/risk/tierpolicy/{policy.pk}/change/", _policy_form(
        policy, reassessment_days=10, signoff_roles=json.dumps(policy.signoff_roles),
        reason="Reassess monthly"))
    assert response.status_code == 302, response.content
    assert tier_policy("medium").reassessment_days == 10


def test_a_deleted_policy_is_gone_at_once():
    assert tier_policy("critical") is not None
    TierPolicy.objects.filter(tier="critical").get().delete()
    assert tier_policy("critical") is None
