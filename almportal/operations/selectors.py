"""Read queries for the operations pages, the API and other apps: one permission layer (what a
user may see comes from inventory.agents_visible_to) and the runtime-status document."""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from ..accounts.models import User
from ..core.caching import remembered
from ..core.hashing import content_hash
from ..inventory.choices import Stage
from ..inventory.models import Agent
from ..inventory.selectors import agents_for_gateway, agents_visible_to, visible_through
from ..releases.selectors import releases_visible_to
from . import rules
from .choices import DeploymentState, RuntimeState
from .models import (
    Alert,
    Deployment,
    DiscoveredSample,
    DiscoveryFinding,
    Environment,
    EventLog,
    Incident,
    IncidentEvent,
    Overseer,
    Route,
    RuntimePoll,
    Suspension,
)
from .rules import may_triage_findings


def active_deployment(agent: Agent, environment: Environment) -> Deployment | None:
    return (Deployment.objects.filter(agent=agent, environment=environment,
                                      state=DeploymentState.ACTIVE)
            .prefetch_related("routes__release").first())



def environments() -> list[Environment]:
    return list(Environment.objects.all())


def production() -> Environment | None:
    return Environment.objects.filter(is_production=True).first()


def agent_for(user: User, slug: str) -> Agent:
    return get_object_or_404(agents_visible_to(user), slug=slug)


def _routes():
    return Prefetch("routes", queryset=Route.objects.select_related("release"))


def deployments_visible_to(user: User) -> QuerySet[Deployment]:
    return (Deployment.objects.filter(visible_through(user))
            .select_related("agent", "environment", "started_by", "ended_by")
            .prefetch_related(_routes()))


def deployment_for(user: User, pk: int) -> Deployment:
    return get_object_or_404(deployments_visible_to(user), pk=pk)


def agent_deployments(agent: Agent) -> QuerySet[Deployment]:
    return (agent.deployments.select_related("environment", "started_by", "ended_by")
            .prefetch_related(_routes()))


def active_by_environment(agent: Agent) -> list[tuple[Environment, Deployment | None]]:
    active = {d.environment_id: d for d in agent_deployments(agent)
              .filter(state=DeploymentState.ACTIVE)}
    return [(env, active.get(env.pk)) for env in environments()]


def deployment_history(deployment: Deployment) -> list:
    """Every step of the deployment and its routes, oldest first, with who and why."""
    rows = list(deployment.history.select_related("history_user"))
    rows += list(Route.history.filter(deployment_id=deployment.pk)
                 .select_related("history_user", "release"))
    return sorted(rows, key=lambda r: (r.history_date, r.history_id))


def suspensions(agent: Agent) -> QuerySet[Suspension]:
    return agent.suspensions.select_related("suspended_by", "resumed_by")


# How many gateway polls the kill-switch page and the API show, the latest first.
RECENT_POLLS = 50


def runtime_polls(agent: Agent) -> QuerySet[RuntimePoll]:
    return agent.runtime_polls.select_related("token", "environment")


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    return (Alert.objects.filter(visible_through(user))
            .select_related("agent", "release", "environment", "incident"))


def alert_for(user: User, pk: int) -> Alert:
    return get_object_or_404(alerts_visible_to(user), pk=pk)


def incidents_visible_to(user: User) -> QuerySet[Incident]:
    return _incidents().filter(visible_through(user))


def incidents_of(agents: QuerySet[Agent]) -> QuerySet[Incident]:
    """The incidents of `agents`, which the caller has limited to agents the user sees."""
    return _incidents().filter(agent__in=agents)


def _incidents() -> QuerySet[Incident]:
    return Incident.objects.select_related("agent", "owner", "affected_release",
                                           "corrective_release", "opened_by")


def with_timeline(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """The incidents with their timeline and linked alerts, as an incident's page shows them."""
    return incidents.prefetch_related(
        Prefetch("events", queryset=IncidentEvent.objects.select_related("actor")),
        Prefetch("alerts", queryset=Alert.objects.select_related("release")))


def incident_for(user: User, pk: int) -> Incident:
    return get_object_or_404(with_timeline(incidents_visible_to(user)), pk=pk)


# --- Runtime status -------------------------------------------------------------------------

# Stages in which a deployed agent may run (in development: outside production only, since its
# first production deployment makes it live).
RUNNING_STAGES = {Stage.IN_DEVELOPMENT, Stage.LIVE, Stage.SUNSETTING}


@dataclass(frozen=True)
class RuntimeStatus:
    document: dict
    etag: str

    @property
    def state(self) -> str:
        return self.document["state"]


def runtime_agent_for(user: User, slug: str) -> Agent:
    return get_object_or_404(agents_for_gateway(user, "poll_runtime"), slug=slug)


def runtime_status(agent: Agent, environment: Environment) -> RuntimeStatus:
    """What a gateway needs: whether the agent may run here and which release serves which
    share of traffic or audience. Only routes that serve are listed, and none unless the agent
    may run."""
    deployment = (Deployment.objects.filter(agent=agent, environment=environment,
                                            state=DeploymentState.ACTIVE)
                  .prefetch_related(_routes()).first())
    routes = [r for r in deployment.routes.all() if r.serves] if deployment else []
    if agent.stage == Stage.RETIRED:
        state = RuntimeState.RETIRED
    elif agent.stage == Stage.SUSPENDED:
        state = RuntimeState.SUSPENDED
    elif routes and agent.stage in RUNNING_STAGES:
        state = RuntimeState.ACTIVE
    else:
        state = RuntimeState.NOT_DEPLOYED
    may_run = state == RuntimeState.ACTIVE
    document = {
        "agent": agent.slug,
        "environment": environment.slug,
        "state": str(state),
        "may_run": may_run,
        "deployment": deployment.pk if deployment and may_run else None,
        "strategy": deployment.strategy if deployment and may_run else None,
        "routes": [{
            "release": r.release.number,
            "version": r.release.display_version,
            "manifest_hash": r.release.manifest_hash,
            "weight": r.weight if not r.audience else None,
            "audience": r.audience or None,
            "canary": r.is_canary,
        } for r in routes] if may_run else [],
    }
    return RuntimeStatus(document, f'"{content_hash(document)[:40]}"')


# --- Runtime status as gateways poll it: from the cache ----------------------------------------
# Each answer is built when something it depends on changes (services.runtime_refresh) and kept
# under its agent and environment; a poll reads it with its ETag and rebuilds nothing.

def _cache_is_shared() -> bool:
    return not settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


# With a shared cache (Redis) every process sees a rebuild at once; a per-process cache cannot
# be told by another process, so its answers live one second (`make run` is one process).
RUNTIME_CACHE_SECONDS = 24 * 3600 if _cache_is_shared() else 1
# Who may read which agent is looked up again after this long: a grant withdrawn from a gateway's
# account takes effect within it (the same bound as a revoked token).
RUNTIME_ACCESS_SECONDS = 5
PRODUCTION = "@production"


def runtime_key(agent_id: int, environment_id: int) -> str:
    return f"runtime:{agent_id}:{environment_id}"


def environment_key(slug: str) -> str:
    return f"runtime-environment:{slug}"


@dataclass(frozen=True)
class Served:
    agent_id: int
    environment_id: int
    status: RuntimeStatus


def _agent_id_for(user: User, slug: str) -> int:
    return remembered(f"runtime-access:{user.pk}:{slug}",
                      lambda: runtime_agent_for(user, slug).pk, RUNTIME_ACCESS_SECONDS)


def _environment_id_for(slug: str) -> int:
    where = {"is_production": True} if slug == PRODUCTION else {"slug": slug}
    return remembered(environment_key(slug),
                      lambda: get_object_or_404(Environment, **where).pk, RUNTIME_CACHE_SECONDS)


def runtime_status_built(agent_id: int, environment_id: int) -> RuntimeStatus:
    return runtime_status(Agent.objects.get(pk=agent_id),
                          Environment.objects.get(pk=environment_id))


def runtime_served(user: User, slug: str, environment: str = "") -> Served:
    """The runtime status a gateway polls, from the cache (404 for an agent the user may not
    see or an unknown environment)."""
    agent_id = _agent_id_for(user, slug)
    environment_id = _environment_id_for(environment or PRODUCTION)
    status = remembered(runtime_key(agent_id, environment_id),
                        lambda: runtime_status_built(agent_id, environment_id),
                        RUNTIME_CACHE_SECONDS)
    return Served(agent_id, environment_id, status)


# --- For the periodic scans of the reviews app (reminders, dormancy) ---------------------------

def serious_incidents_due(*, before: datetime) -> list[Incident]:
    """Serious incidents not yet reported whose reporting deadline falls before `before`."""
    return list(Incident.objects.filter(serious=True, reported_at__isnull=True,
                                        report_deadline__lte=before)
                .select_related("agent", "owner"))


# --- Discovery ---------------------------------------------------------------------------------

def findings_visible_to(user: User) -> QuerySet[DiscoveryFinding]:
    """The discovery queue is compliance's (and admins'); nobody else sees it."""
    if not may_triage_findings(user):
        return DiscoveryFinding.objects.none()
    return DiscoveryFinding.objects.select_related("agent", "decided_by")


def finding_for(user: User, pk: int) -> DiscoveryFinding:
    return get_object_or_404(findings_visible_to(user), pk=pk)


def samples_before_registration(agent: Agent) -> QuerySet[DiscoveredSample]:
    """What the agent sent before it was claimed from a discovery finding."""
    return DiscoveredSample.objects.filter(finding__agent=agent).order_by("-timestamp", "-pk")


def possible_owners() -> QuerySet[User]:
    """Active people who may file intakes (the owners a claimed finding can be given to)."""
    return (User.objects.filter(is_active=True, groups__permissions__codename="add_agent",
                                groups__permissions__content_type__app_label="inventory")
            .distinct().order_by("username"))


def contract_release_for(user: User, slug: str, number: int):
    """A release whose telemetry contract this user may read (or 404)."""
    return get_object_or_404(releases_visible_to(user), agent__slug=slug, number=number)


# --- Human oversight and the event log ------------------------------------------------------

def overseers_visible_to(user: User) -> QuerySet[Overseer]:
    return (Overseer.objects.filter(visible_through(user))
            .select_related("agent", "user", "assigned_by"))


def overseer_for(user: User, pk: int) -> Overseer:
    return get_object_or_404(overseers_visible_to(user), pk=pk)


def agent_overseers(agent: Agent) -> list[Overseer]:
    return list(agent.overseers.select_related("user", "assigned_by"))


def oversight_gap_of(agent: Agent, today: date | None = None) -> str | None:
    """What the oversight rule says about the agent today (None: nothing missing)."""
    if not rules.needs_oversight(agent):
        return None
    return rules.oversight_gap(agent, agent_overseers(agent), today or timezone.localdate())


def people_who_may_oversee() -> QuerySet[User]:
    return User.objects.filter(is_active=True, is_service_account=False).order_by("username")


def event_logs_visible_to(user: User) -> QuerySet[EventLog]:
    return (EventLog.objects.filter(visible_through(user))
            .select_related("agent", "actor"))


def agent_event_log(agent: Agent) -> QuerySet[EventLog]:
    return agent.event_logs.select_related("actor")
