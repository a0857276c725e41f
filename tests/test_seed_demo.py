from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone
from simple_history.models import HistoricalChanges

from almportal.accounts.models import User
from almportal.accounts.roles import Role
from almportal.audit.models import ActionState, AuditState, Finding
from almportal.inventory.choices import Stage
from almportal.inventory.models import COMPONENT_MODELS, Agent
from almportal.operations.choices import CanaryState, DeploymentState, IncidentStatus
from almportal.operations.models import (
    Alert,
    Deployment,
    Incident,
    IngestBatch,
    MetricSample,
    Suspension,
)
from almportal.releases.choices import ItemStatus, ReleaseState
from almportal.releases.models import ChecklistItem, EvaluationRun, Release, SignOff
from almportal.releases.services import release_gate
from almportal.retirement.choices import PlanState, TaskStatus
from almportal.retirement.models import Archive, DecommissionPlan, DecommissionTask
from almportal.reviews.models import ReviewState
from almportal.risk.models import Assessment

# Seeded once for the module (demo_data): each test reads the first run's rows and output.
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
        "assessments": Assessment.objects.count(),
        "checklist items": ChecklistItem.objects.count(),
        "evaluation runs": EvaluationRun.objects.count(),
        "sign-offs": SignOff.objects.count(),
        "deployments": Deployment.objects.count(),
        "batches": IngestBatch.objects.count(),
        "samples": MetricSample.objects.count(),
        "alerts": Alert.objects.count(),
        "incidents": Incident.objects.count(),
        "suspensions": Suspension.objects.count(),
        "plans": DecommissionPlan.objects.count(),
        "tasks done": DecommissionTask.objects.filter(status=TaskStatus.DONE).count(),
        "archives": Archive.objects.count(),
    }


def test_it_creates_a_user_per_role_with_demo_passwords(demo_data):
    output = demo_data
    expected = {"owner": Role.BUSINESS_OWNER, "owner2": Role.BUSINESS_OWNER,
                "compliance": Role.COMPLIANCE, "compliance2": Role.COMPLIANCE,
                "security": Role.SECURITY, "security2": Role.SECURITY,
                "auditor": Role.AUDITOR, "admin": Role.ADMIN}
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.has_role(role)
        assert authenticate(username=username, password=f"demo-{username}") == user
        assert f"demo-{username}" in output
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff


def test_it_creates_agents_in_every_stage_with_components_and_releases(demo_data):
    assert set(Agent.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert Release.objects.filter(state=ReleaseState.SUBMITTED).count() == 1
    assert Release.objects.filter(state=ReleaseState.DEPLOYED).count() == 3
    for model in COMPONENT_MODELS.values():
        assert model.objects.exists(), model
    assert COMPONENT_MODELS["tools"].objects.filter(writes=True).exists()


def test_agents_past_intake_are_assessed_by_compliance_across_tiers(demo_data):
    past_intake = Agent.objects.exclude(stage__in=[Stage.DRAFT, Stage.PROPOSED, Stage.DECLINED])
    for agent in past_intake:
        assessment = agent.risk_assessments.get()
        assert assessment.completed_by.username == "compliance"
        assert assessment.tier == agent.risk_tier
    assert {"low", "medium", "high"} <= set(past_intake.values_list("risk_tier", flat=True))


def test_releases_in_production_passed_the_real_gate(demo_data):
    shipped = Release.objects.exclude(state__in=[ReleaseState.DRAFT, ReleaseState.SUBMITTED])
    assert shipped.count() == 5
    for release in shipped:
        items = release.checklist_items.all()
        assert items and all(i.status == ItemStatus.ACCEPTED for i in items)
        assert all(i.reviewed_by.username == "security2" for i in items)
        assert all(i.evidence.exists() for i in items)
        assert release.evaluation_runs.filter(passed=True).exists()
        signers = set(release.signoffs.values_list("user__username", flat=True))
        assert release.submitted_by.username not in signers
        assert release.agent.business_owner.username in signers
    high = Release.objects.get(agent__slug="customer-support-assistant")
    assert set(high.signoffs.values_list("user__username", flat=True)) == {
        "owner2", "security", "compliance", "compliance2"}
    assert release_gate(high).passed


def test_the_live_agent_runs_a_canary_and_live_releases_have_two_weeks_of_samples(demo_data):
    live = Agent.objects.get(stage=Stage.LIVE)
    canary = live.deployments.get(state=DeploymentState.ACTIVE)
    assert (canary.canary_state, canary.canary_weight) == (CanaryState.IN_PROGRESS, 25)
    serving = Release.objects.filter(state=ReleaseState.DEPLOYED)
    assert serving.count() == 3
    for release in serving:
        samples = MetricSample.objects.filter(release=release)
        metrics = set(samples.values_list("metric", flat=True))
        assert {"requests", "errors", "latency_ms", "cost", "satisfaction"} <= metrics
        days = {s.date() for s in samples.values_list("timestamp", flat=True)}
        assert len(days) >= 14


def test_the_suspended_agent_has_an_alert_a_serious_incident_and_a_kill_switch_reason(demo_data):
    suspended = Agent.objects.get(stage=Stage.SUSPENDED)
    alert = Alert.objects.get(agent=suspended)
    incident = Incident.objects.get(agent=suspended)
    assert alert.agent == incident.agent == suspended
    assert alert.incident == incident
    assert incident.serious and incident.report_deadline is not None
    suspension = suspended.suspensions.get()
    assert "refunds" in suspension.reason
    assert suspension.suspended_by.username == "compliance"


def test_decommissioning_is_under_way_and_done(demo_data):
    sunsetting = DecommissionPlan.objects.get(agent__stage=Stage.SUNSETTING)
    done = sunsetting.tasks.filter(status=TaskStatus.DONE).count()
    assert 0 < done < sunsetting.tasks.count()
    retired = DecommissionPlan.objects.get(agent__stage=Stage.RETIRED)
    assert retired.state == PlanState.RETIRED
    assert not retired.tasks.exclude(status=TaskStatus.DONE).exists()
    assert retired.signoffs.count() == 2
    assert Archive.objects.get().agent == retired.agent


def test_the_retired_agent_kept_the_records_of_its_working_life(demo_data):
    retired = Agent.objects.get(stage=Stage.RETIRED)
    assert retired.impact_assessments.get().signed_by.username == "compliance"
    assert retired.risk_entries.filter(acceptances__isnull=False).exists()
    overseers = retired.overseers.all()
    assert {o.role for o in overseers} == {"operator", "can_halt"}
    assert all(o.active_to == timezone.localdate() for o in overseers)  # ended at retirement
    assert retired.monitoring.thresholds == {"error_rate": {"max": 0.05}}
    alert = retired.alerts.get()
    assert alert.metric == "error_rate" and alert.cleared_at is not None
    assert alert.incident.status == IncidentStatus.RESOLVED
    assert alert.incident.post_incident_review
    drill = retired.suspensions.get()
    assert drill.is_drill and drill.resumed_at is not None
    review = retired.access_reviews.get()
    assert review.state == ReviewState.COMPLETED
    assert set(review.items.values_list("decision", flat=True)) == {"keep"}
    assert not retired.credentials.filter(revoked_at=None).exists()  # revoked at retirement
    finding = Finding.objects.get(agent=retired)
    assert finding.closed_at is not None and finding.audit.state == AuditState.CLOSED
    assert finding.actions.get().state == ActionState.VERIFIED


def test_it_records_who_did_what_and_why(demo_data):
    live = Agent.objects.get(stage=Stage.LIVE)
    last = live.history.first()
    assert last.history_user.username == "admin"
    assert last.history_change_reason.startswith("Demo data:")
    declined = Agent.objects.get(stage=Stage.DECLINED)
    assert declined.history.first().history_user.username == "compliance"
    first = live.history.last()
    assert first.history_user == live.business_owner


def test_a_second_run_changes_nothing(demo_data):
    before = counts()
    output = seed()
    assert "demo data already present" in output
    assert "demo-owner" not in output
    assert counts() == before


def test_it_keeps_a_changed_password(demo_data):
    owner = User.objects.get(username="owner")
    owner.set_password("changed-by-the-owner")
    owner.save()
    seed()
    assert authenticate(username="owner", password="changed-by-the-owner") is not None


def test_it_prints_a_short_summary_and_no_mail(demo_data):
    """The e-mails the demo flows send go to the outbox, not to the terminal (the console
    backend writes to standard output), and the summary fits a screen."""
    printed = demo_data
    assert "Subject:" not in printed and "Content-Type" not in printed
    assert len(printed.splitlines()) <= 30, printed
    assert "demo-owner" in printed
