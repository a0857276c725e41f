"""An agent's whole life in the browser, each step done by the person whose job it is and
checked by what they see: intake, triage, risk assessment, a release through the readiness
checklist, evaluations and sign-offs, a canary in production, the kill switch, decommissioning,
and the auditor's export of the ledger.

Steps that repeat (the other checklist items, the first release, the remaining decommissioning
tasks) go through the same services the pages call; every kind of step is done in a page once."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from almportal.accounts.roles import Role
from almportal.audit.models import LedgerEntry
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent
from almportal.operations import services as operations
from almportal.operations.models import Environment
from almportal.releases import services as releases
from almportal.releases.choices import Decision, EvidenceKind, ItemStatus, ReleaseState, RunSource
from almportal.releases.models import Release
from almportal.retirement import services as retirement
from almportal.retirement.choices import TaskAction, TaskStatus

from ..factories import make_service_account, make_user
from .conftest import add_link_evidence, fill_intake, login, set_item_status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAME = "Supplier onboarding assistant"
METRICS = {"task_success_rate": 0.93, "tool_call_success_rate": 0.97,
           "policy_compliance_rate": 0.99, "groundedness": 0.92, "latency_p95_ms": 2400,
           "cost_per_task": 0.05}
LABELS = {"task_success_rate": "Task success rate", "tool_call_success_rate":
          "Tool-call success rate", "policy_compliance_rate": "Policy compliance rate",
          "groundedness": "Groundedness", "latency_p95_ms": "p95 latency (ms)",
          "cost_per_task": "Cost per task"}


def said(page, text) -> None:
    """The page shows a message (role=status) containing the text."""
    expect(page.get_by_role("status").filter(has_text=text).first).to_be_visible()


def field(scope, label: str):
    """A form field by its label, exactly (Django may add a colon)."""
    return scope.get_by_label(re.compile(f"^{re.escape(label)}:?$"))


def condition(page, key: str):
    return page.locator(f"[data-condition='{key}']")


# --- Steps done through the services, as the pages would ------------------------------------

def accept_item(item, *, by, reviewer) -> None:
    releases.checklist_item_assign(actor=by, item=item, reviewer=reviewer)
    releases.evidence_add(actor=by, item=item, kind=EvidenceKind.LINK,
                          url=f"https://wiki.example.test/readiness#{item.key}")
    item = releases.checklist_item_set_status(actor=by, item=item, status=ItemStatus.IN_REVIEW)
    releases.checklist_item_set_status(actor=reviewer, item=item, status=ItemStatus.ACCEPTED)


def first_release_live(agent, *, owner, delegate, compliance, reviewer) -> Release:
    """Release 1 through the gate (CI's evaluation run, the checklist, both sign-offs) and to
    production all at once."""
    inventory.component_add_version(
        actor=delegate, agent=agent, kind="models",
        data={"name": "main-model", "provider": "Anthropic", "model_name": "claude-sonnet",
              "pinned_version": "claude-sonnet-4-20250514", "hosting": "vendor_api"})
    release = releases.release_create(
        actor=delegate, agent=agent, label="1.0.0", notes="First release",
        components={"models": list(agent.models.values_list("pk", flat=True))})
    release = releases.release_submit(actor=delegate, release=release)
    suite = releases.evaluation_suite_create(
        actor=delegate, agent=agent, name="regression", dataset_ref="s3://evals/suppliers",
        dataset_version="2026-11", metrics=list(METRICS))
    releases.evaluation_run_record(actor=make_service_account(agent), release=release,
                                   suite=suite, metrics=METRICS, source=RunSource.API)
    for item in release.checklist_items.all():
        accept_item(item, by=delegate, reviewer=reviewer)
    releases.signoff_record(actor=compliance, release=release, role=Role.COMPLIANCE,
                            decision=Decision.APPROVE)
    releases.signoff_record(actor=owner, release=release, role=Role.BUSINESS_OWNER,
                            decision=Decision.APPROVE)
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED, releases.release_gate(release).missing
    operations.deployment_start(
        actor=owner, agent=agent, environment=Environment.objects.get(is_production=True),
        strategy="all_at_once", routes=[operations.RouteSpec(release)], reason="Launch")
    return release


def test_an_agent_from_intake_to_retirement(page):
    olivia = make_user(Role.BUSINESS_OWNER, username="olivia", first_name="Olivia")
    dan = make_user(Role.BUSINESS_OWNER, username="dan", first_name="Dan")
    carla = make_user(Role.COMPLIANCE, username="carla", first_name="Carla")
    sam = make_user(Role.SECURITY, username="sam", first_name="Sam")
    make_user(Role.AUDITOR, username="audrey", first_name="Audrey")

    # 1. The business owner files the intake.
    login(page, "olivia")
    expect(page.get_by_role("heading", name="Welcome, Olivia")).to_be_visible()
    page.goto(reverse("inventory:agent-create"))
    fill_intake(page, NAME, problem="Supplier onboarding takes three weeks of e-mails to "
                                    "collect documents.",
                why="Documents arrive in any format.", users="Procurement team",
                kpis="Onboarding time: 5 days", autonomy="human_approves", data="confidential",
                reach="writes_internal", unit="Procurement")
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    page.get_by_role("button", name="Submit for triage").click()
    said(page, "submitted")
    agent = Agent.objects.get(name=NAME)
    inventory.agent_add_delegate(actor=olivia, agent=agent, user=dan)

    # 2. Compliance triages it.
    login(page, "carla")
    page.goto(reverse("inventory:intake-queue"))
    page.get_by_role("link", name=NAME).first.click()
    page.get_by_role("button", name="Accept").click()
    said(page, "accepted")
    expect(page.locator("body")).to_contain_text("In development")

    # 3. Compliance assesses the risk: the record's answers are suggested, the rest answered.
    page.goto(reverse("risk:assessment-start", kwargs={"slug": agent.slug}))
    expect(page.get_by_role("heading", name=f"Risk assessment of {NAME}")).to_be_visible()
    for group in page.get_by_role("group").all():
        radios = group.get_by_role("radio")
        if radios.count() and not any(r.is_checked() for r in radios.all()):
            radios.first.check()
    page.get_by_role("button", name="Complete assessment").click()
    said(page, "Risk assessment")
    expect(page.locator("body")).to_contain_text("Medium")
    agent.refresh_from_db()
    assert agent.risk_tier == "medium"

    # The first release reaches production as CI and the signers would; the second is the one
    # this journey takes through the pages.
    first = first_release_live(agent, owner=olivia, delegate=dan, compliance=carla,
                               reviewer=sam)
    release = releases.release_create(
        actor=dan, agent=agent, label="1.1.0", notes="Asks for the bank letter up front",
        components={"models": list(agent.models.values_list("pk", flat=True))},
        configuration={"max_tokens_per_task": 3000})

    # 4. The delegate submits it, records the evaluation run and works one checklist item.
    login(page, "dan")
    page.goto(release.get_absolute_url())
    page.get_by_role("button", name="Submit for sign-off").click()
    said(page, "submitted for sign-off")
    release.refresh_from_db()
    readiness = release.get_absolute_url()  # one page: the gate and sign-offs are here too
    expect(page).to_have_url(re.compile(f"{readiness}$"))
    expect(page.get_by_role("heading", name=re.compile("Release gate"))).to_contain_text(
        "not yet")
    expect(condition(page, "evaluations")).to_have_attribute("data-passed", "false")
    expect(condition(page, "checklist")).to_contain_text("no evidence")
    page.locator("summary", has_text="Record an evaluation run").click()
    run_form = page.locator("form").filter(has=page.get_by_role("button", name="Record run"))
    for key, value in METRICS.items():
        field(run_form, LABELS[key]).fill(str(value))
    run_form.get_by_role("button", name="Record run").click()
    said(page, "passed")
    # What the delegate types in is kept but does not count: CI's run (its own token) does.
    expect(page.locator("[data-run-ignored]")).to_be_visible()
    expect(condition(page, "evaluations")).to_have_attribute("data-passed", "false")
    releases.evaluation_run_record(actor=make_service_account(agent), release=release,
                                   suite=agent.evaluation_suites.get(), metrics=METRICS,
                                   source=RunSource.API)
    page.reload()
    expect(condition(page, "evaluations")).to_have_attribute("data-passed", "true")

    page.get_by_role("link", name="Audit logging on for every action and decision").click()
    field(page, "Reviewer").select_option(label=str(sam))
    page.get_by_role("button", name="Save").click()
    said(page, "Owner and reviewer saved")
    add_link_evidence(page, "https://wiki.example.test/suppliers/audit-logging")
    said(page, "Evidence added")
    expect(page.get_by_role("link", name=re.compile("audit-logging"))).to_be_visible()
    set_item_status(page, "In review")
    said(page, "in review")
    item = release.checklist_items.get(key="audit_logging")

    # 5. The security reviewer accepts it.
    login(page, "sam")
    page.goto(item.get_absolute_url())
    set_item_status(page, "Accepted")
    said(page, "accepted")
    for other in release.checklist_items.exclude(pk=item.pk):
        accept_item(other, by=dan, reviewer=sam)

    # 6. Compliance, then the owner, sign; the gate holds and the release is approved.
    login(page, "carla")
    page.goto(readiness)
    expect(condition(page, "checklist")).to_have_attribute("data-passed", "true")
    expect(condition(page, "signoffs")).to_contain_text("0 of 1")
    field(page, "Role").select_option(label="Compliance officer")
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record my decision").click()
    said(page, "Recorded")
    login(page, "olivia")
    page.goto(readiness)
    field(page, "Role").select_option(label="Business owner")
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record my decision").click()
    said(page, "Recorded")
    expect(page.get_by_role("heading", name=re.compile("Release gate"))).to_contain_text("holds")
    expect(page.locator("body")).to_contain_text("Approved")

    # 7. The owner starts a canary at 25% in production.
    page.goto(reverse("operations:deployments", kwargs={"slug": agent.slug}))
    field(page, "Environment").select_option(label="Production")
    field(page, "Strategy").select_option(label="Canary")
    field(page, "Release").select_option(
        label=f"{release.display_version} (approved)")
    field(page, "Canary share").select_option(label="25%")
    field(page, "Reason").fill("Canary for the bank-letter change")
    page.get_by_role("button", name="Deploy").click()
    said(page, "Deployed to Production")
    expect(page.get_by_role("region", name="Routes")).to_contain_text("25% of traffic")
    page.goto(reverse("operations:deployments", kwargs={"slug": agent.slug}))
    production = page.get_by_role("region", name=re.compile("Production"))
    expect(production).to_contain_text("canary in progress at 25%")
    expect(production).to_contain_text("75% of traffic")
    first.refresh_from_db()
    release.refresh_from_db()
    assert (first.state, release.state) == (ReleaseState.DEPLOYED, ReleaseState.DEPLOYED)

    # 8. Security trips the kill switch; compliance resumes the agent.
    login(page, "sam")
    page.goto(reverse("operations:kill-switch", kwargs={"slug": agent.slug}))
    expect(page.locator("body")).to_contain_text("Live")
    page.get_by_label("Why", exact=True).fill("Supplier bank details shown to the wrong vendor")
    page.get_by_role("button", name="Suspend").click()
    said(page, "is suspended")
    expect(page.get_by_role("heading", name="Suspended")).to_be_visible()
    assert Agent.objects.get(pk=agent.pk).stage == Stage.SUSPENDED
    login(page, "carla")
    page.goto(reverse("operations:kill-switch", kwargs={"slug": agent.slug}))
    page.get_by_label("Why resume").fill("Access check fixed and verified")
    page.get_by_role("button", name="Resume").click()
    said(page, "is live again")
    expect(page.get_by_role("heading", name="Suspend now")).to_be_visible()
    assert Agent.objects.get(pk=agent.pk).stage == Stage.LIVE

    # 9. The owner decommissions it: the plan, a task run by the portal, one done by hand,
    # both sign-offs, and retirement.
    login(page, "olivia")
    page.goto(reverse("retirement:plan-start", kwargs={"slug": agent.slug}))
    field(page, "Reason").fill("Procurement moves to the ERP's supplier portal")
    field(page, "Planned date").fill(
        (timezone.localdate() + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Start sunsetting").click()
    said(page, "is sunsetting")
    expect(page.get_by_role("heading", name=f"Decommissioning of {NAME}")).to_be_visible()
    plan = agent.decommission_plans.get()
    notify = plan.tasks.get(action=TaskAction.NOTIFY_USERS)
    page.get_by_role("button", name=f"Run {notify.title}").click()
    said(page, "recorded its proof")
    manual = plan.tasks.filter(action=TaskAction.MANUAL).order_by("position").first()
    row = page.locator(f"#task-{manual.pk}")
    row.get_by_label("What was done").fill("Endpoints removed from the API gateway.")
    row.get_by_label("Evidence link").fill("https://tickets.example.test/DEC-7")
    row.get_by_role("button", name=re.compile("Mark done")).click()
    said(page, "The task is done")
    for task in plan.tasks.filter(status=TaskStatus.TODO).order_by("position"):
        runner = carla if task.action in (TaskAction.PRESERVE_LOGS,
                                          TaskAction.ARCHIVE_EVIDENCE) else olivia
        if task.is_automatic:
            retirement.task_run(actor=runner, task=task)
        else:
            retirement.task_complete(actor=olivia, task=task, comment="Done, see the ticket.")
    page.reload()
    page.get_by_role("button", name="Sign as business owner").click()
    said(page, "Your sign-off is recorded")
    login(page, "carla")
    page.goto(plan.get_absolute_url())
    page.get_by_role("button", name="Sign as compliance").click()
    said(page, "Your sign-off is recorded")
    login(page, "olivia")
    page.goto(plan.get_absolute_url())
    expect(page.get_by_text("Every task is done and both sign-offs are in.")).to_be_visible()
    page.get_by_role("button", name=f"Retire {NAME}").click()
    said(page, f"{NAME} is retired")
    expect(page.locator("body")).to_contain_text("Retired")
    assert Agent.objects.get(pk=agent.pk).stage == Stage.RETIRED

    # 10. The auditor exports the ledger; its last line carries the ledger's last hash.
    login(page, "audrey")
    page.goto(reverse("audit:history"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Export JSON Lines").click()
    lines = [json.loads(line) for line in
             open(download.value.path(), encoding="utf-8").read().splitlines() if line]
    last = lines[-1]
    entry = LedgerEntry.objects.get(seq=last["last_seq"]) if "last_seq" in last else None
    assert entry is not None, last
    assert last["last_hash"] == entry.hash == lines[-2]["hash"]
    retired = LedgerEntry.objects.filter(agent_id=agent.pk).order_by("-seq").first()
    assert entry.seq >= retired.seq
