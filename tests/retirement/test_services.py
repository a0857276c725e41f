"""The rules of decommissioning, at the services."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from almportal.accounts.models import Notification
from almportal.accounts.outbox import outbox_send
from almportal.accounts.roles import Role
from almportal.audit.models import RetentionHold
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.inventory.models import Credential
from almportal.retirement import services
from almportal.retirement.choices import REQUIRED_TASKS, PlanState, SignOffRole, TaskStatus
from almportal.retirement.models import DecommissionPlan, DecommissionTask
from almportal.retirement.selectors import current_template, missing_for_retirement

from ..factories import make_agent, make_release, make_user
from .conftest import add_credential, do_every_task, sign_both, start, task

pytestmark = pytest.mark.django_db


# --- Done when 1: the full task list, and retirement refused naming what is missing ----------

def test_it_creates_the_full_task_list_when_sunsetting_starts(dev_agent, owner, settings):
    plan = start(dev_agent)
    dev_agent.refresh_from_db()
    assert dev_agent.stage == Stage.SUNSETTING
    assert set(plan.tasks.values_list("key", flat=True)) == set(REQUIRED_TASKS)
    assert all(t.status == TaskStatus.TODO and t.assignee and t.due_date
               for t in plan.tasks.all())
    assert task(plan, "revoke_credentials").assignee == owner
    assert task(plan, "preserve_logs").assignee.has_role(Role.COMPLIANCE)
    assert plan.retention_until == (timezone.localdate()
                                    + timedelta(days=settings.DECOMMISSION_LOG_RETENTION_DAYS))
    assert plan.template == current_template()
    assert dev_agent.history.first().history_change_reason.startswith("Sunsetting started")


def test_it_keeps_logs_at_least_six_months_by_default(settings):
    assert settings.DECOMMISSION_LOG_RETENTION_DAYS >= 183


def test_retiring_is_refused_naming_every_missing_task_and_sign_off(plan, owner):
    with pytest.raises(Conflict) as refused:
        services.plan_retire(actor=owner, plan=plan)
    missing = refused.value.errors["__all__"]
    for each in plan.tasks.all():
        assert f"Task not done: {each.title}" in missing
    assert "Sign-off missing: Business owner" in missing
    assert "Sign-off missing: Compliance" in missing
    assert any(m.startswith("Credential not revoked: crm-api") for m in missing)
    plan.agent.refresh_from_db()
    assert plan.agent.stage == Stage.SUNSETTING


def test_retiring_is_refused_until_both_sign_offs_are_in(plan, owner, compliance):
    do_every_task(plan, owner, compliance)
    services.signoff_record(actor=owner, plan=plan, role=SignOffRole.OWNER)
    with pytest.raises(Conflict) as refused:
        services.plan_retire(actor=owner, plan=plan)
    assert refused.value.errors["__all__"] == ["Sign-off missing: Compliance"]
    services.signoff_record(actor=compliance, plan=plan, role=SignOffRole.COMPLIANCE)
    services.plan_retire(actor=owner, plan=plan)
    plan.refresh_from_db()
    plan.agent.refresh_from_db()
    assert (plan.state, plan.agent.stage, plan.retired_by) == (PlanState.RETIRED,
                                                              Stage.RETIRED, owner)


def test_a_grant_added_after_the_revocation_task_blocks_retirement(plan, owner, compliance):
    do_every_task(plan, owner, compliance)
    sign_both(plan, owner, compliance)
    late = add_credential(plan.agent, name="late-grant")
    with pytest.raises(Conflict) as refused:
        services.plan_retire(actor=owner, plan=plan)
    assert refused.value.errors["__all__"] == [f"Credential not revoked: {late}"]


# --- Starting ----------------------------------------------------------------------------

def test_compliance_may_start_and_outsiders_may_not(owner, other_owner, auditor, security,
                                                     compliance):
    for outsider in (other_owner, auditor, security):
        agent = make_agent(owner, Stage.IN_DEVELOPMENT)
        with pytest.raises(NotPermitted):
            start(agent, actor=outsider)
        agent.refresh_from_db()
        assert agent.stage == Stage.IN_DEVELOPMENT
    plan = start(make_agent(owner, Stage.LIVE), actor=compliance)
    assert plan.started_by == compliance


def test_it_refuses_a_draft_agent_and_a_second_plan(owner, plan):
    with pytest.raises(Conflict):
        start(make_agent(owner))
    with pytest.raises(Conflict):
        start(plan.agent)
    assert DecommissionPlan.objects.count() == 1


@pytest.mark.parametrize("field, kwargs", [
    ("planned_date", {"planned_date": timezone.localdate() - timedelta(days=1)}),
    ("retention_until", {"retention_until": timezone.localdate() + timedelta(days=30)}),
    ("reason", {"reason": "  "}),
    ("contact_emails", {"contact_emails": "not-an-address"}),
])
def test_bad_input_writes_nothing(dev_agent, field, kwargs):
    with pytest.raises(DomainError) as refused:
        start(dev_agent, **kwargs)
    assert field in refused.value.errors
    dev_agent.refresh_from_db()
    assert dev_agent.stage == Stage.IN_DEVELOPMENT
    assert not DecommissionTask.objects.exists()


def test_sunsetting_refuses_new_releases_and_deployments(owner):
    from almportal.operations import services as operations
    from almportal.operations.models import Environment

    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    start(agent)
    with pytest.raises(Conflict):
        make_release(agent)
    with pytest.raises(Conflict):
        operations.deployment_start(
            actor=owner, agent=agent, environment=Environment.objects.get(slug="staging"),
            strategy="all_at_once", routes=[operations.RouteSpec(release)], reason="One more")
    assert agent.releases.count() == 1 and not agent.deployments.exists()


# --- Tasks -------------------------------------------------------------------------------

def test_a_manual_task_needs_a_comment_or_evidence(plan, owner):
    catalog = task(plan, "update_catalog")
    with pytest.raises(DomainError) as refused:
        services.task_complete(actor=owner, task=catalog)
    assert "comment" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        services.task_complete(actor=owner, task=catalog, evidence_sha256="abc")
    assert "evidence_sha256" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        services.task_complete(actor=owner, task=catalog, evidence_url="ftp://x")
    assert "evidence_url" in refused.value.errors
    catalog.refresh_from_db()
    assert catalog.status == TaskStatus.TODO
    services.task_complete(actor=owner, task=catalog, comment="Catalog entry marked retired.",
                           evidence_sha256="A" * 64)
    catalog.refresh_from_db()
    assert (catalog.status, catalog.completed_by, catalog.evidence_sha256) == (
        TaskStatus.DONE, owner, "a" * 64)
    with pytest.raises(Conflict):
        services.task_complete(actor=owner, task=catalog, comment="Again")


def test_automatic_tasks_are_run_and_manual_ones_completed(plan, owner):
    with pytest.raises(Conflict):
        services.task_complete(actor=owner, task=task(plan, "notify_users"), comment="Told them")
    with pytest.raises(Conflict):
        services.task_run(actor=owner, task=task(plan, "update_catalog"))


def test_only_the_team_works_the_tasks(plan, other_owner, auditor):
    for outsider in (other_owner, auditor):
        with pytest.raises(NotPermitted):
            services.task_complete(actor=outsider, task=task(plan, "update_catalog"),
                                   comment="x")
        with pytest.raises(NotPermitted):
            services.task_run(actor=outsider, task=task(plan, "revoke_credentials"))


def test_an_assignee_outside_the_team_may_work_their_task(plan, owner):
    person = make_user(Role.BUSINESS_OWNER)
    accounts = task(plan, "remove_service_accounts")
    services.task_assign(actor=owner, task=accounts, assignee=person)
    services.task_complete(actor=person, task=accounts, comment="svc-crm-api deleted in IdP")
    accounts.refresh_from_db()
    assert accounts.completed_by == person


def test_revoking_revokes_every_credential_and_lists_them(plan, owner):
    revoke = services.task_run(actor=owner, task=task(plan, "revoke_credentials"))
    assert not Credential.objects.filter(agent=plan.agent, revoked_at__isnull=True).exists()
    assert sorted(r["credential"] for r in revoke.proof["revoked"]) == ["crm-api v1",
                                                                        "ticketing v1"]
    assert revoke.status == TaskStatus.DONE and revoke.completed_by == owner
    credential = Credential.objects.get(name="crm-api")
    assert credential.revoked_by == owner
    assert "Decommissioning" in credential.history.first().history_change_reason


def test_preserving_logs_places_the_retention_hold(plan, owner, compliance):
    preserve = task(plan, "preserve_logs")
    with pytest.raises(NotPermitted):  # the audit area keeps its own rule
        services.task_run(actor=owner, task=preserve)
    preserve = services.task_run(actor=compliance, task=preserve)
    hold = RetentionHold.objects.get(agent=plan.agent)
    assert hold.retain_until == plan.retention_until
    assert preserve.proof == {"retention_hold": hold.pk,
                              "retain_until": plan.retention_until.isoformat()}


def test_notifying_tells_the_audience_and_the_contacts(owner, django_capture_on_commit_callbacks):
    delegate, tech, contact = (make_user(Role.BUSINESS_OWNER) for _ in range(3))
    agent = make_agent(owner, Stage.LIVE, technical_owner=tech)
    inventory.agent_add_delegate(actor=owner, agent=agent, user=delegate)
    plan = start(agent, contact_users=[contact],
                 contact_emails="ops@example.test\nhelp@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.task_run(actor=owner, task=task(plan, "notify_users"))
    told = set(Notification.objects.filter(kind="agent-sunsetting")
               .values_list("user__username", flat=True))
    assert told == {owner.username, delegate.username, tech.username, contact.username}
    assert sorted(notice.proof["users"]) == sorted(told)
    assert notice.proof["emails"] == ["help@example.test", "ops@example.test"]
    outbox_send()
    assert any(set(m.to) == {"help@example.test", "ops@example.test"} for m in mail.outbox)


# --- Sign-offs ---------------------------------------------------------------------------

def test_sign_offs_wait_for_every_task(plan, owner):
    with pytest.raises(Conflict):
        services.signoff_record(actor=owner, plan=plan, role=SignOffRole.OWNER)


def test_sign_offs_keep_segregation_of_duties(plan, owner, compliance, auditor, other_owner):
    do_every_task(plan, owner, compliance)
    with pytest.raises(NotPermitted):
        services.signoff_record(actor=owner, plan=plan, role=SignOffRole.COMPLIANCE)
    with pytest.raises(NotPermitted):
        services.signoff_record(actor=compliance, plan=plan, role=SignOffRole.OWNER)
    for outsider in (auditor, other_owner):
        with pytest.raises(NotPermitted):
            services.signoff_record(actor=outsider, plan=plan, role=SignOffRole.COMPLIANCE)
    services.signoff_record(actor=compliance, plan=plan, role=SignOffRole.COMPLIANCE)
    with pytest.raises(Conflict):
        services.signoff_record(actor=make_user(Role.COMPLIANCE), plan=plan,
                                role=SignOffRole.COMPLIANCE)
    with pytest.raises(DomainError):
        services.signoff_record(actor=owner, plan=plan, role="auditor")


def test_a_compliance_officer_who_owns_the_agent_cannot_sign_as_compliance(compliance):
    officer_owner = make_user(Role.COMPLIANCE)
    officer_owner.groups.add(*make_user(Role.BUSINESS_OWNER).groups.all())
    agent = make_agent(officer_owner, Stage.IN_DEVELOPMENT)
    plan = start(agent)
    do_every_task(plan, officer_owner, compliance)
    with pytest.raises(NotPermitted):
        services.signoff_record(actor=officer_owner, plan=plan, role=SignOffRole.COMPLIANCE)


def test_nothing_changes_after_retirement(retired, owner, compliance):
    assert retired.state == PlanState.RETIRED
    assert missing_for_retirement(retired) == []
    with pytest.raises(Conflict):
        services.plan_retire(actor=owner, plan=retired)
    with pytest.raises(Conflict):
        services.signoff_record(actor=compliance, plan=retired, role=SignOffRole.COMPLIANCE)
    with pytest.raises(Conflict):
        start(retired.agent)
    with pytest.raises(Conflict):
        retired.delete()
    with pytest.raises(Conflict):
        retired.tasks.first().delete()


# --- The template ------------------------------------------------------------------------

def test_admins_publish_new_template_versions_that_new_plans_use(admin_user, compliance, owner):
    items = [*current_template().items, {"key": "tell-the-vendor", "title": "Tell the vendor",
                                         "action": "manual", "assignee_role": "owner",
                                         "due_offset_days": 5}]
    with pytest.raises(NotPermitted):
        services.template_publish(actor=compliance, items=items)
    with pytest.raises(DomainError):
        services.template_publish(actor=admin_user, items=items[1:])  # a required task gone
    with pytest.raises(DomainError):
        services.template_publish(actor=admin_user, items=[*items, items[-1]])
    template = services.template_publish(actor=admin_user, items=items, notes="Vendor notice")
    assert template.version == 2
    plan = start(make_agent(owner, Stage.IN_DEVELOPMENT))
    assert plan.template == template and plan.tasks.count() == 8
    assert task(plan, "tell-the-vendor").due_date == timezone.localdate() + timedelta(days=5)
