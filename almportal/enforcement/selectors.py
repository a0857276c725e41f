"""The policy a gateway enforces for an agent in an environment, and what gateways report."""

from dataclasses import dataclass, field
from datetime import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone

from ..accounts.models import User
from ..core import caching
from ..inventory.choices import Stage
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from ..operations import selectors as operations
from ..operations.choices import RuntimeState
from ..operations.models import Environment, Suspension
from ..releases.choices import ReleaseState
from . import cedar, rules
from .models import GatewayReport

# A cached policy is keyed by everything it depends on (the runtime status's ETag, which
# changes with the agent's stage and the releases that serve, and the open suspension), so
# it never goes stale; it only expires to free the cache.
POLICY_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Policy:
    agent: str
    environment: str
    mode: str
    revision: str
    releases: list[dict] = field(default_factory=list)
    policies: str = ""

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'

    def document(self) -> dict:
        return {"agent": self.agent, "environment": self.environment, "mode": self.mode,
                "revision": self.revision, "releases": self.releases,
                "schema": cedar.SCHEMA, "policies": self.policies}


def _open_suspension_id(agent_id: int) -> int | None:
    return (Suspension.objects.filter(agent_id=agent_id, resumed_at__isnull=True)
            .values_list("pk", flat=True).first())


def policy_of(agent: Agent, environment: Environment) -> Policy:
    """Compiled from what serves: a forbid-all when the agent is suspended or retired, else
    the policies of each release routed to in the environment (none: nothing permitted)."""
    slug, where = agent.slug, environment.slug
    if agent.stage in (Stage.SUSPENDED, Stage.RETIRED):
        suspension = _open_suspension_id(agent.pk) if agent.stage == Stage.SUSPENDED else None
        return Policy(slug, where, mode=rules.Mode.FORBID_ALL,
                      revision=rules.forbid_all_revision(agent.pk, suspension),
                      policies=cedar.policy_set(agent.slug, [], forbid_all=True))
    deployment = operations.active_deployment(agent, environment)
    serving = [r.release for r in deployment.routes.all() if r.serves] if deployment else []
    if agent.stage not in operations.RUNNING_STAGES or not serving:
        return Policy(slug, where, mode=rules.Mode.NOTHING, revision=rules.NOTHING_REVISION)
    releases = list({r.pk: r for r in serving}.values())
    return Policy(
        slug, where, mode=rules.Mode.RELEASES,
        revision=rules.releases_revision(r.manifest_hash for r in releases),
        releases=[{"number": r.number, "version": r.display_version,
                   "manifest_hash": r.manifest_hash} for r in releases],
        policies=cedar.policy_set(agent.slug, [(r.manifest_hash, r.manifest) for r in releases],
                                  forbid_all=False))


@dataclass(frozen=True)
class Served:
    agent_id: int
    environment_id: int
    policy: Policy


def policy_served(user: User, slug: str, environment: str = "") -> Served:
    """The policy a gateway polls (404 for an agent its token may not see): read from the
    cache under the runtime status's ETag, so an unchanged agent costs no query."""
    runtime = operations.runtime_served(user, slug, environment)
    key = f"enforcement-policy:{runtime.agent_id}:{runtime.environment_id}:{runtime.status.etag}"
    if runtime.status.state == RuntimeState.SUSPENDED:
        key += f":{_open_suspension_id(runtime.agent_id)}"
    policy = caching.remembered(key, lambda: policy_of(
        Agent.objects.get(pk=runtime.agent_id), Environment.objects.get(pk=runtime.environment_id)),
        POLICY_CACHE_SECONDS)
    return Served(runtime.agent_id, runtime.environment_id, policy)


# --- What gateways report -----------------------------------------------------------------------

def reporting_since(suspension: Suspension) -> datetime:
    return suspension.suspended_at - rules.REPORTING_WINDOW


def halt_awaits_gateways(suspension: Suspension) -> bool:
    """Registered with the kill switch: a suspension of an agent whose policy gateways report
    what they enforce halts only when the last of them enforces the forbid-all."""
    return GatewayReport.objects.filter(agent_id=suspension.agent_id,
                                        last_reported_at__gte=reporting_since(suspension)).exists()


def reported_revisions(agent_id: int, since: datetime) -> list[str]:
    return list(GatewayReport.objects.filter(agent_id=agent_id, last_reported_at__gte=since)
                .values_list("revision", flat=True))


def pending_halt(agent_id: int) -> Suspension | None:
    """The agent's open suspension whose time-to-halt is not yet recorded."""
    return Suspension.objects.filter(agent_id=agent_id, resumed_at__isnull=True,
                                     first_halted_poll_at__isnull=True).first()


def known_revisions(agent: Agent) -> set[str]:
    """Every revision the portal may have served for the agent: its releases' manifest hashes
    and the forbid-all of each of its suspensions and of its retirement."""
    hashes = set(agent.releases.exclude(state=ReleaseState.DRAFT)
                 .values_list("manifest_hash", flat=True))
    suspensions = agent.suspensions.values_list("pk", flat=True)
    return (hashes | {rules.forbid_all_revision(agent.pk, pk) for pk in suspensions}
            | {rules.forbid_all_revision(agent.pk, None), rules.NOTHING_REVISION})


@dataclass(frozen=True)
class GatewayRow:
    report: GatewayReport
    current: str
    standing: str
    silent: bool


def gateway_rows(agent: Agent, *, now: datetime | None = None) -> list[GatewayRow]:
    """Each gateway that reported for the agent, with the revision it should enforce and
    whether its own is current, stale or one the portal never served. Queries: a fixed few,
    plus a few per environment reported in (not per gateway)."""
    reports = list(agent.gateway_reports.select_related("token", "environment"))
    if not reports:
        return []
    now = now or timezone.now()
    environments = {r.environment_id: r.environment for r in reports}
    current = {pk: policy_of(agent, env).revision for pk, env in environments.items()}
    known = known_revisions(agent)
    return [GatewayRow(r, current[r.environment_id],
                       rules.standing(r.revision, current[r.environment_id], known),
                       rules.is_silent(r.last_reported_at, now)) for r in reports]


def agent_for(user: User, slug: str) -> Agent:
    return get_object_or_404(agents_visible_to(user), slug=slug)
