"""A high-tier agent with a release submitted by a delegate (so the owner may sign as owner),
and the steps that satisfy each condition of its gate."""

from dataclasses import dataclass

from almportal.accounts.models import User
from almportal.accounts.roles import Role
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.releases import services
from almportal.releases.choices import Decision, EvidenceKind, ItemStatus, RunSource
from almportal.releases.models import EvaluationSuite, Release

from ..factories import make_release, make_service_account
from ..risk.helpers import assessed

GOOD_METRICS = {
    "task_success_rate": 0.95, "tool_call_success_rate": 0.97, "escalation_precision": 0.9,
    "policy_compliance_rate": 0.99, "groundedness": 0.95, "prompt_injection_pass_rate": 0.97,
    "latency_p95_ms": 3000, "cost_per_task": 0.2, "tokens_per_task": 5000,
}


def high_release(owner: User, assessor: User, delegate: User, **release_kwargs) -> Release:
    agent = assessed(owner, assessor, stage=Stage.IN_DEVELOPMENT, tier="high",
                     justification="Handles HR records").agent
    inventory.agent_add_delegate(actor=owner, agent=agent, user=delegate)
    release = make_release(agent, **release_kwargs)
    return services.release_submit(actor=delegate, release=release)


def complete_checklist(release: Release, reviewer: User, *, leave: int = 0) -> None:
    """Evidence and an accepted review for every item but the last `leave` ones."""
    owner = release.agent.business_owner
    items = list(release.checklist_items.order_by("order"))
    for item in items[:len(items) - leave]:
        add_link(item, owner)
        item = services.checklist_item_assign(actor=owner, item=item, reviewer=reviewer)
        item = services.checklist_item_set_status(actor=owner, item=item,
                                                  status=ItemStatus.IN_REVIEW)
        services.checklist_item_set_status(actor=reviewer, item=item, status=ItemStatus.ACCEPTED)


def add_link(item, actor, **kwargs):
    return services.evidence_add(actor=actor, item=item, kind=EvidenceKind.LINK,
                                 url="https://wiki.example.test/readiness", **kwargs)


def suite_for(release: Release) -> EvaluationSuite:
    return (EvaluationSuite.objects.filter(agent=release.agent).first()
            or services.evaluation_suite_create(
                actor=release.agent.business_owner, agent=release.agent, name="regression",
                dataset_ref="s3://evals/hr", dataset_version="2026-05",
                metrics=list(GOOD_METRICS)))


def passing_run(release: Release, **overrides):
    """A run posted by CI (a service account): what counts towards the gate."""
    return services.evaluation_run_record(
        actor=make_service_account(release.agent), release=release, suite=suite_for(release),
        metrics={**GOOD_METRICS, **overrides}, source=RunSource.API)


@dataclass
class Signers:
    owner: User
    security: User
    compliance: User
    compliance2: User


def sign(release: Release, user: User, role: str, decision: str = Decision.APPROVE,
         comment: str = ""):
    return services.signoff_record(actor=user, release=release, role=role, decision=decision,
                                   comment=comment)


def sign_all(release: Release, s: Signers) -> None:
    sign(release, s.security, Role.SECURITY)
    sign(release, s.compliance, Role.COMPLIANCE)
    sign(release, s.compliance2, Role.COMPLIANCE)
    sign(release, s.owner, Role.BUSINESS_OWNER)
