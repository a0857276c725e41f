"""Agents with releases approved through the real sign-off flow (assessment, checklist with
evidence accepted by a reviewer, an evaluation run, the owner's sign-off), and API clients
holding gateway tokens."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts.models import TokenScope
from almportal.accounts.roles import Role
from almportal.accounts.services import token_create
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.operations import services
from almportal.operations.models import Environment
from almportal.releases import services as release_services
from almportal.releases import services as releases
from almportal.releases.choices import METRICS, Decision, ItemStatus, ReleaseState

from ..factories import make_agent, make_release, make_service_account, make_user
from ..risk.helpers import assessed


def _passing(thresholds: dict) -> dict[str, float]:
    """Values that meet each of the tier's evaluation thresholds."""
    values = {}
    for metric, bound in thresholds.items():
        if metric not in METRICS:
            continue
        values[metric] = (min(1.0, bound["min"] + 0.04) if "min" in bound
                          else bound["max"] / 2)
    return values or {"task_success_rate": 0.95}


def env(slug: str) -> Environment:
    return Environment.objects.get(slug=slug)


class Team:
    """The people around one agent: its owner, a delegate (who submits, so that the owner may
    sign), and a reviewer of checklist items."""

    def __init__(self, owner, compliance):
        self.owner, self.compliance = owner, compliance
        self.delegate = make_user(Role.BUSINESS_OWNER)
        self.reviewer = make_user(Role.SECURITY)

    def agent(self, **fields):
        agent = make_agent(self.owner, Stage.IN_DEVELOPMENT, **fields)
        inventory.agent_add_delegate(actor=self.owner, agent=agent, user=self.delegate)
        assessed(self.owner, self.compliance, agent=agent)
        agent.refresh_from_db()
        return agent

    def approved_release(self, agent, **kwargs):
        """A release taken to `approved` by the releases app's own flow."""
        release = make_release(agent, actor=self.delegate, **kwargs)
        release = release_services.release_submit(actor=self.delegate, release=release)
        policy = releases.policy_for(release)
        assert policy is not None  # the agent was assessed, so its tier has a policy
        metrics = _passing(policy.evaluation_thresholds)
        suite = (agent.evaluation_suites.first() or releases.evaluation_suite_create(
            actor=self.owner, agent=agent, name="regression", dataset_ref="s3://evals/faq",
            dataset_version="1", metrics=list(metrics)))
        run = releases.evaluation_run_record(actor=make_service_account(agent), release=release,
                                             suite=suite, metrics=metrics)
        for item in release.checklist_items.all():
            releases.checklist_item_assign(actor=self.owner, item=item, reviewer=self.reviewer)
            releases.evidence_add(actor=self.delegate, item=item, kind="evaluation", run=run)
            releases.checklist_item_set_status(actor=self.delegate, item=item,
                                               status=ItemStatus.IN_REVIEW)
            item.refresh_from_db()
            releases.checklist_item_set_status(actor=self.reviewer, item=item,
                                               status=ItemStatus.ACCEPTED)
        for role in policy.signoff_roles:
            signer = {Role.BUSINESS_OWNER: self.owner, Role.COMPLIANCE: self.compliance}[role]
            releases.signoff_record(actor=signer, release=release, role=role,
                                    decision=Decision.APPROVE)
        release.refresh_from_db()
        assert release.state == ReleaseState.APPROVED, releases.release_gate(release).missing
        return release

    def live(self, agent=None, **release_fields):
        """An agent with an approved release (made with `release_fields`) deployed all at once
        to production."""
        agent = agent or self.agent()
        release = self.approved_release(agent, **release_fields)
        services.deployment_start(actor=self.owner, agent=agent, environment=env("production"),
                                  strategy="all_at_once",
                                  routes=[services.RouteSpec(release)], reason="Launch")
        agent.refresh_from_db()
        release.refresh_from_db()
        return agent, release


def token_client(user, *scopes: str) -> APIClient:
    _, key = token_create(actor=user, name="gateway", scopes=list(scopes),
                          expires_at=timezone.now() + timedelta(days=30))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def runtime_client(user) -> APIClient:
    return token_client(user, TokenScope.RUNTIME)


def ingest_client(user) -> APIClient:
    return token_client(user, TokenScope.INGEST)
