from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from simple_history.models import HistoricalChanges

from almportal.accounts.models import User
from almportal.accounts.roles import Role
from almportal.inventory.choices import ReleaseState, Stage
from almportal.inventory.models import COMPONENT_MODELS, Agent, Release

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    history = sum(m.objects.count() for m in apps.get_models()
                  if issubclass(m, HistoricalChanges))
    return {
        "users": User.objects.count(),
        "agents": Agent.objects.count(),
        "components": sum(m.objects.count() for m in COMPONENT_MODELS.values()),
        "releases": Release.objects.count(),
        "history": history,
    }


def test_it_creates_a_user_per_role_with_demo_passwords():
    output = seed()
    expected = {"owner": Role.BUSINESS_OWNER, "owner2": Role.BUSINESS_OWNER,
                "compliance": Role.COMPLIANCE, "security": Role.SECURITY,
                "auditor": Role.AUDITOR, "admin": Role.ADMIN}
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.has_role(role)
        assert authenticate(username=username, password=f"demo-{username}") == user
        assert f"demo-{username}" in output
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff


def test_it_creates_agents_in_every_stage_with_components_and_releases():
    seed()
    assert set(Agent.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert Release.objects.filter(state=ReleaseState.SUBMITTED).count() == 1
    for model in COMPONENT_MODELS.values():
        assert model.objects.exists(), model
    assert COMPONENT_MODELS["tools"].objects.filter(writes=True).exists()


def test_it_records_who_did_what_and_why():
    seed()
    live = Agent.objects.get(stage=Stage.LIVE)
    last = live.history.first()
    assert last.history_user.username == "admin"
    assert last.history_change_reason.startswith("Demo data:")
    declined = Agent.objects.get(stage=Stage.DECLINED)
    assert declined.history.first().history_user.username == "compliance"
    first = live.history.last()
    assert first.history_user == live.business_owner


def test_a_second_run_changes_nothing():
    seed()
    before = counts()
    output = seed()
    assert "demo data already present" in output
    assert "demo-owner" not in output
    assert counts() == before


def test_it_keeps_a_changed_password():
    seed()
    owner = User.objects.get(username="owner")
    owner.set_password("changed-by-the-owner")
    owner.save()
    seed()
    assert authenticate(username="owner", password="changed-by-the-owner") is not None
