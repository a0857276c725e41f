"""The steps that take a demo agent through its lifecycle, each through the services with the
demo user who would do it in the portal."""

import random
from datetime import date, datetime, timedelta

from django.utils import timezone

from almportal.accounts.models import User
from almportal.accounts.roles import Role
from almportal.core.lifecycle import record
from almportal.inventory import services as inventory
from almportal.inventory.models import Agent
from almportal.operations import services as operations
from almportal.operations.choices import SeriousKind, Severity
from almportal.operations.models import Alert, Environment, MetricSample
from almportal.releases import services as releases
from almportal.releases.choices import Decision, EvidenceKind, ItemStatus, ReleaseState, RunSource
from almportal.releases.models import Release
from almportal.retirement import services as retirement
from almportal.retirement.choices import SignOffRole, TaskAction, TaskStatus
from almportal.risk import services as risk

# What the demo evaluation suite measures on each release: within every tier's thresholds.
EVALUATION = {
    "task_success_rate": 0.96, "tool_call_success_rate": 0.99, "escalation_precision": 0.92,
    "policy_compliance_rate": 0.995, "groundedness": 0.96, "prompt_injection_pass_rate": 0.99,
    "latency_p95_ms": 2800, "cost_per_task": 0.04, "tokens_per_task": 3200,
}
SAMPLE_DAYS = 14


def owner_of(agent: Agent) -> User:
    """The agent's business owner: every demo agent has one (its intake names it)."""
    assert agent.business_owner is not None, f"{agent} has no business owner"
    return agent.business_owner


def assess(agent: Agent, answers: dict, *, owner: User, assessor: User) -> None:
    draft = risk.assessment_draft(actor=owner, agent=agent, answers=answers,
                                  reason="Demo data: answered by the business owner")
    risk.assessment_complete(actor=assessor, assessment=draft)


def _suite(agent: Agent, owner: User):
    return agent.evaluation_suites.first() or releases.evaluation_suite_create(
        actor=owner, agent=agent, name="regression", dataset_ref=f"s3://evals/{agent.slug}",
        dataset_version="2026-10", metrics=list(EVALUATION))


def ci_account(agent: Agent, admin: User) -> User:
    """The demo's CI pipeline: a service account that records evaluation runs on the agent."""
    account, _ = User.objects.get_or_create(
        username="ci-pipeline", defaults={"first_name": "CI pipeline", "is_service_account": True})
    inventory.service_account_set_rights(actor=admin, agent=agent, account=account,
                                         rights=["record_evaluations"],
                                         reason="Demo data: CI posts the evaluation runs")
    return account


def approve(release: Release, users: dict[str, User]) -> Release:
    """Take a submitted release through its gate: an evaluation run, every checklist item with
    evidence accepted by a reviewer, and the sign-offs the tier asks for."""
    agent = release.agent
    owner, submitter = owner_of(agent), release.submitted_by
    assert submitter is not None  # only a submitted release is approved
    run = releases.evaluation_run_record(actor=ci_account(agent, users["admin"]),
                                         release=release, suite=_suite(agent, owner),
                                         metrics=EVALUATION, source=RunSource.API,
                                         notes="CI pipeline run")
    reviewer = users["security2"]
    for item in release.checklist_items.order_by("order"):
        releases.checklist_item_assign(actor=owner, item=item, reviewer=reviewer)
        if item.key == "evaluation_passed":
            releases.evidence_add(actor=submitter, item=item, kind=EvidenceKind.EVALUATION,
                                  run=run)
        else:
            releases.evidence_add(actor=submitter, item=item, kind=EvidenceKind.LINK,
                                  url=f"https://wiki.example.com/agents/{agent.slug}/"
                                      f"readiness#{item.key}")
        item = releases.checklist_item_set_status(actor=submitter, item=item,
                                                  status=ItemStatus.IN_REVIEW)
        releases.checklist_item_set_status(actor=reviewer, item=item, status=ItemStatus.ACCEPTED,
                                           comment="Evidence checked")
    signers: dict[str, list[str]] = {Role.SECURITY: ["security", "security2"],
               Role.COMPLIANCE: ["compliance", "compliance2"]}
    policy = releases.policy_for(release)
    for role, (count, quorum) in releases.quorum_counts(release, policy).items():
        people = [owner] if role == Role.BUSINESS_OWNER else [users[n] for n in signers[role]]
        for person in people[:quorum - count]:
            releases.signoff_record(actor=person, release=release, role=role,
                                    decision=Decision.APPROVE, comment="Reviewed for the demo")
    release.refresh_from_db()
    if release.state != ReleaseState.APPROVED:
        raise RuntimeError(f"{release} did not pass its gate: "
                           f"{releases.release_gate(release).missing}")
    return release


def deploy(release: Release, spec: dict) -> None:
    agent = release.agent
    production = Environment.objects.get(is_production=True)
    strategy = spec["deploy"]
    weight = spec.get("canary_weight")
    reason = (f"Canary of {release.display_version} at {weight}%" if strategy == "canary"
              else f"Release {release.display_version} to production")
    operations.deployment_start(actor=owner_of(agent), agent=agent,
                                environment=production, strategy=strategy,
                                routes=[operations.RouteSpec(release)], reason=reason,
                                canary_weight=weight)


def _hourly(release: Release, now, *, spike_end: int | None) -> list[dict]:
    """Hourly samples; with `spike_end`, errors run at 6-9% for the three hours that end that
    many hours ago."""
    rng = random.Random(f"{release.agent.slug}-{release.number}")
    share = 0.25 if release.routes.filter(is_canary=True).exists() else 1.0
    samples = []
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=SAMPLE_DAYS)
    hours = SAMPLE_DAYS * 24
    for hour in range(1, hours + 1):
        at = start + timedelta(hours=hour) - timedelta(minutes=1)
        local = timezone.localtime(at)
        busy = 1.0 if 8 <= local.hour < 18 and local.weekday() < 5 else 0.25
        requests = max(1, round(rng.uniform(120, 180) * busy * share))
        error_rate = rng.uniform(0.002, 0.012)
        if spike_end is not None and hours - spike_end - 3 < hour <= hours - spike_end:
            error_rate = rng.uniform(0.06, 0.09)
        tokens_in = requests * rng.randint(900, 1300)
        tokens_out = requests * rng.randint(250, 450)
        values = {
            "requests": requests, "errors": round(requests * error_rate),
            "latency_ms": round(rng.uniform(1100, 2600)), "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost": round(tokens_in * 2.5e-6 + tokens_out * 1e-5, 4),
            "satisfaction": round(rng.uniform(0.78, 0.93), 3),
        }
        samples += [{"agent": release.agent.slug, "release": release.number,
                     "environment": "production", "timestamp": at.isoformat(),
                     "metric": metric, "value": value} for metric, value in values.items()]
    return samples


def send_samples(release: Release, *, spike_end: int | None = None) -> None:
    """Two weeks of hourly production samples, sent in batches as a gateway would."""
    samples = _hourly(release, timezone.now(), spike_end=spike_end)
    owner = owner_of(release.agent)
    for n, start in enumerate(range(0, len(samples), operations.MAX_BATCH)):
        operations.samples_ingest(actor=owner, token=None,
                                  batch_id=f"demo-{release.agent.slug}-{release.number}-{n}",
                                  samples=samples[start:start + operations.MAX_BATCH])


def last_sample_at(agent: Agent) -> datetime:
    """Just after the agent's newest sample: the threshold scan that ran then saw the last hour
    of samples, whenever the demo is loaded."""
    newest = MetricSample.objects.filter(agent=agent).latest("timestamp").timestamp
    return newest + timedelta(minutes=1)


def scan(agent: Agent, *, hours_before_last: int = 0) -> list[Alert]:
    """The threshold scan as it ran that many hours before the last sample came in."""
    at = last_sample_at(agent) - timedelta(hours=hours_before_last)
    return operations.thresholds_evaluate(agent_ids=[agent.pk], now=at)


def alert_and_incident(agent: Agent, users: dict[str, User]) -> None:
    """The threshold scan opens an alert on the error spike; compliance opens an incident from
    it and marks it serious, which starts the reporting clock."""
    alerts = scan(agent)
    compliance = users["compliance"]
    incident = operations.incident_open(
        actor=compliance, agent=agent, title="Refunds promised to customers",
        severity=Severity.HIGH, alert=alerts[0] if alerts else None,
        description="Customers report the assistant promised refunds on marketplace orders; "
                    "the error rate rose at the same time.")
    operations.incident_add_note(actor=owner_of(agent), incident=incident,
                                 text="Twelve conversations found so far; customer service is "
                                      "calling each customer back.")
    operations.incident_mark_serious(
        actor=compliance, incident=incident, kind=SeriousKind.OTHER,
        reason="Customers were misled about their consumer rights.")


def suspend(agent: Agent, reason: str, users: dict[str, User]) -> None:
    operations.agent_suspend(actor=users["compliance"], agent=agent, reason=reason)


def sunset(agent: Agent, spec: dict, users: dict[str, User]):
    return retirement.plan_start(actor=owner_of(agent), agent=agent, reason=spec["sunset"],
                                 planned_date=timezone.localdate() + timedelta(days=21),
                                 contact_users=[users[spec["delegate"]]],
                                 dependents=spec.get("dependents", ""))


# Who does each automatic task: compliance keeps and archives records; the owner does the rest.
RUNNERS = {TaskAction.PRESERVE_LOGS: "compliance", TaskAction.ARCHIVE_EVIDENCE: "compliance"}


def do_task(task, users: dict[str, User]) -> None:
    owner = task.plan.agent.business_owner
    if task.is_automatic:
        runner = users[RUNNERS[task.action]] if task.action in RUNNERS else owner
        retirement.task_run(actor=runner, task=task)
    else:
        retirement.task_complete(actor=owner, task=task, comment="Done for the demo.",
                                 evidence_url=f"https://tickets.example.com/DEC-{task.pk}")


def do_tasks(plan, users: dict[str, User], *, count: int | None = None) -> None:
    todo = list(plan.tasks.filter(status=TaskStatus.TODO).order_by("position"))
    for task in todo[:count]:
        do_task(task, users)


def retire(plan, users: dict[str, User]) -> None:
    do_tasks(plan, users)
    owner = plan.agent.business_owner
    for overseer in plan.agent.overseers.filter(active_to=None):
        operations.overseer_end(actor=owner, overseer=overseer,
                                reason="The agent is retired: nothing left to oversee.")
    retirement.signoff_record(actor=owner, plan=plan, role=SignOffRole.OWNER,
                              comment="Nothing depends on it any more.")
    retirement.signoff_record(actor=users["compliance"], plan=plan, role=SignOffRole.COMPLIANCE,
                              comment="Logs kept, evidence archived.")
    retirement.plan_retire(actor=owner, plan=plan)


def revoke(agent: Agent, name: str, users: dict[str, User]) -> None:
    credential = agent.credentials.get(name=name)
    inventory.credential_revoke(actor=users["security"], credential=credential,
                                reason="Revoked while the agent is suspended")


def review_due(agent: Agent, users: dict[str, User], *, on: date, reason: str) -> None:
    """Set the day the agent's next access review falls due (the scan opens it from then)."""
    agent.refresh_from_db()
    agent.next_review_at = on
    record(agent, actor=users["admin"], reason=reason)
