"""Deployments and rollouts: all at once, canary steps, rainbow audiences, rollback.

Release states follow production only: a release serving production traffic is `deployed`; one
replaced there is `superseded`; one taken out by a rollback is `rolled_back`."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ...accounts.models import User
from ...core.errors import Conflict, DomainError, require_that
from ...core.lifecycle import lock, record
from ...inventory import services as inventory
from ...inventory.choices import Stage
from ...inventory.models import Agent
from ...releases import services as releases
from ...releases.choices import ReleaseState
from ...releases.models import Release
from ...releases.services import release_gate
from ..choices import CanaryState, DeploymentState, EventLogKind, Strategy
from ..models import Deployment, Environment, Route
from ..rules import may_deploy, may_suspend, rollback_refusal
from ..selectors import active_deployment
from .eventlog import event_log_record

DEPLOYABLE_STAGES = {Stage.IN_DEVELOPMENT, Stage.LIVE, Stage.SUSPENDED}
# A frozen release may run outside production; production needs the gate as well.
RUNNABLE_STATES = {ReleaseState.SUBMITTED, ReleaseState.APPROVED, ReleaseState.DEPLOYED,
                   ReleaseState.SUPERSEDED, ReleaseState.ROLLED_BACK}
PRODUCTION_STATES = RUNNABLE_STATES - {ReleaseState.SUBMITTED}
MAX_AUDIENCES = 20


@dataclass(frozen=True)
class RouteSpec:
    release: Release
    audience: str = ""


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why.", field="reason")
    return reason[:1000]


def serving_releases(deployment: Deployment | None) -> list[Release]:
    if deployment is None:
        return []
    seen: dict[int, Release] = {}
    for route in deployment.routes.all():
        if route.serves:
            seen.setdefault(route.release_id, route.release)
    return list(seen.values())


# --- Checks --------------------------------------------------------------------------------

def _check_release(release: Release, agent: Agent, environment: Environment) -> None:
    if release.agent_id != agent.pk:
        raise DomainError("The release does not belong to this agent.", field="release")
    if environment.is_production:
        if release.state not in PRODUCTION_STATES:
            raise DomainError(f"Release {release.display_version} is "
                              f"{release.get_state_display().lower()}: only an approved release "
                              "goes to production.", errors=_gate_errors(release))
        gate = release_gate(release)
        if not gate.passed:
            raise DomainError(errors=_gate_errors(release, gate))
    elif release.state not in RUNNABLE_STATES:
        raise DomainError(f"Release {release.display_version} is "
                          f"{release.get_state_display().lower()}: submit it first (a deployed "
                          "manifest must be frozen).", field="release")


def _gate_errors(release: Release, gate=None) -> dict[str, list[str]]:
    gate = gate or release_gate(release)
    head = (f"Release {release.display_version} does not pass the release gate for "
            "production.")
    return {"release": [head, *gate.missing] if gate.missing else [head]}


def _clean_routes(strategy: str, routes: Sequence[RouteSpec], weight: int | None
                  ) -> list[RouteSpec]:
    if strategy not in Strategy.values:
        raise DomainError("Choose a strategy.", field="strategy")
    if strategy in (Strategy.ALL_AT_ONCE, Strategy.CANARY) and len(routes) != 1:
        raise DomainError("Choose one release.", field="release")
    if strategy == Strategy.CANARY and (weight is None or not 1 <= weight <= 99):
        raise DomainError("A canary starts at a share between 1 and 99 percent.", field="weight")
    if strategy != Strategy.RAINBOW:
        return [RouteSpec(routes[0].release)]
    cleaned = [RouteSpec(r.release, " ".join((r.audience or "").split())[:80]) for r in routes]
    if len(cleaned) < 2 or len(cleaned) > MAX_AUDIENCES:
        raise DomainError(f"A rainbow deployment routes 2 to {MAX_AUDIENCES} audiences.",
                          field="routes")
    names = [r.audience.lower() for r in cleaned]
    if not all(names):
        raise DomainError("Name the audience of every route.", field="routes")
    if len(set(names)) != len(names):
        raise DomainError("Each audience is routed once.", field="routes")
    return cleaned


# --- Release states in production -----------------------------------------------------------

def _set_release_state(actor: User, release: Release, state: str, reason: str) -> None:
    current = Release.objects.values_list("state", flat=True).get(pk=release.pk)
    if current != state and releases.release_states.allows(current, state):
        releases.release_set_state(actor=actor, release=release, state=state, reason=reason)


def _mark_serving(actor: User, releases: Iterable[Release], reason: str) -> None:
    for release in releases:
        _set_release_state(actor, release, ReleaseState.DEPLOYED, reason)


def _mark_out(actor: User, releases: Iterable[Release], state: str, reason: str) -> None:
    for release in releases:
        _set_release_state(actor, release, state, reason)


def _go_live(actor: User, agent: Agent, reason: str) -> None:
    if Agent.objects.values_list("stage", flat=True).get(pk=agent.pk) == Stage.IN_DEVELOPMENT:
        inventory.agent_set_stage(actor=actor, agent=agent, stage=Stage.LIVE,
                                  reason=f"First production deployment: {reason}")


# --- Starting and ending --------------------------------------------------------------------

def _end(deployment: Deployment, *, actor: User, reason: str) -> None:
    deployment.state = DeploymentState.ENDED
    deployment.ended_by = actor
    deployment.ended_at = timezone.now()
    record(deployment, actor=actor, reason=reason)


def _create(*, actor: User, agent: Agent, environment: Environment, strategy: str,
            previous: Deployment | None, reason: str, routes: list[Route],
            canary_weight: int | None = None) -> Deployment:
    deployment = Deployment(
        agent=agent, environment=environment, strategy=strategy, previous=previous,
        reason=reason, started_by=actor, canary_weight=canary_weight,
        canary_state=CanaryState.IN_PROGRESS if strategy == Strategy.CANARY else CanaryState.NONE)
    record(deployment, actor=actor, reason=reason)
    for route in routes:
        route.deployment = deployment
        record(route, actor=actor, reason=reason)
    return deployment


def _canary_routes(previous: Deployment | None, release: Release, weight: int) -> list[Route]:
    stable = serving_releases(previous)
    if previous is None or previous.strategy == Strategy.RAINBOW or len(stable) != 1:
        raise Conflict("A canary needs one release already serving all traffic in this "
                       "environment; deploy all at once first.")
    if stable[0].pk == release.pk:
        raise DomainError("This release already serves all traffic here.", field="release")
    return [Route(release=stable[0], weight=100 - weight),
            Route(release=release, weight=weight, is_canary=True)]


@transaction.atomic
def deployment_start(*, actor: User, agent: Agent, environment: Environment, strategy: str,
                     routes: Sequence[RouteSpec], reason: str,
                     canary_weight: int | None = None) -> Deployment:
    """Deploy releases to an environment, replacing what ran there (which a rollback returns
    to). Production needs every new release to pass the release gate."""
    agent = lock(Agent, agent.pk)
    require_that(may_deploy(actor, agent),
                 "Only the agent's owner, a delegate or an admin may deploy it.")
    reason = _reason(reason)
    if agent.stage not in DEPLOYABLE_STAGES:
        raise Conflict(f"{agent} is {agent.get_stage_display().lower()}: it cannot be deployed.")
    specs = _clean_routes(strategy, routes, canary_weight)
    previous = active_deployment(agent, environment)
    if previous is not None:
        previous = lock(Deployment, previous.pk)
    new_releases = {spec.release.pk: spec.release for spec in specs}
    for release in new_releases.values():
        _check_release(release, agent, environment)
    if strategy == Strategy.CANARY:
        assert canary_weight is not None  # _clean_routes refuses a canary without its share
        route_rows = _canary_routes(previous, specs[0].release, canary_weight)
    elif strategy == Strategy.RAINBOW:
        route_rows = [Route(release=s.release, audience=s.audience) for s in specs]
    else:
        route_rows = [Route(release=specs[0].release, weight=100)]
    if previous is not None:
        _end(previous, actor=actor, reason=f"Replaced by a new deployment: {reason}")
    deployment = _create(actor=actor, agent=agent, environment=environment, strategy=strategy,
                         previous=previous, reason=reason, routes=route_rows,
                         canary_weight=canary_weight if strategy == Strategy.CANARY else None)
    if environment.is_production:
        serving = {r.release.pk: r.release for r in route_rows}
        _mark_serving(actor, serving.values(), f"Deployed to production: {reason}")
        _mark_out(actor, [r for r in serving_releases(previous) if r.pk not in serving],
                  ReleaseState.SUPERSEDED, f"Superseded in production: {reason}")
        _go_live(actor, agent, reason)
    return deployment


# --- Canary steps ---------------------------------------------------------------------------

def _lock_canary(deployment: Deployment, actor: User) -> tuple[Deployment, Route, Route]:
    deployment = lock(Deployment, deployment.pk)
    if not deployment.canary_in_progress:
        raise Conflict("This deployment has no canary in progress.")
    routes = list(deployment.routes.select_related("release").select_for_update())
    canary = next(r for r in routes if r.is_canary)
    stable = next(r for r in routes if not r.is_canary)
    return deployment, canary, stable


def _set_weights(canary: Route, stable: Route, weight: int, *, actor: User, reason: str) -> None:
    canary.weight, stable.weight = weight, 100 - weight
    record(canary, actor=actor, reason=reason)
    record(stable, actor=actor, reason=reason)


@transaction.atomic
def canary_promote(*, actor: User, deployment: Deployment, weight: int, reason: str
                   ) -> Deployment:
    """Raise the canary's share; at 100% the canary is complete and the old release is
    superseded."""
    require_that(may_deploy(actor, deployment.agent),
                 "Only the agent's owner, a delegate or an admin may promote a canary.")
    reason = _reason(reason)
    deployment, canary, stable = _lock_canary(deployment, actor)
    assert deployment.canary_weight is not None  # a canary in progress has its share
    if not isinstance(weight, int) or not deployment.canary_weight < weight <= 100:
        raise DomainError(f"Choose a share above {deployment.canary_weight}% and at most 100%.",
                          field="weight")
    text = f"Canary promoted from {deployment.canary_weight}% to {weight}%: {reason}"
    _set_weights(canary, stable, weight, actor=actor, reason=text)
    deployment.canary_weight = weight
    if weight == 100:
        deployment.canary_state = CanaryState.COMPLETED
    record(deployment, actor=actor, reason=text)
    if weight == 100 and deployment.environment.is_production:
        _mark_out(actor, [stable.release], ReleaseState.SUPERSEDED,
                  f"Superseded by canary release {canary.release.display_version}: {reason}")
    return deployment


@transaction.atomic
def canary_rollback(*, actor: User, deployment: Deployment, reason: str,
                    check_rights: bool = True) -> Deployment:
    """Send all traffic back to the stable release (`check_rights=False` only for the
    automatic rollback on a threshold breach)."""
    if check_rights:
        require_that(may_deploy(actor, deployment.agent),
                     "Only the agent's owner, a delegate or an admin may roll a canary back.")
    reason = _reason(reason)
    deployment, canary, stable = _lock_canary(deployment, actor)
    text = f"Canary at {deployment.canary_weight}% rolled back: {reason}"
    _set_weights(canary, stable, 0, actor=actor, reason=text)
    deployment.canary_weight = 0
    deployment.canary_state = CanaryState.ROLLED_BACK
    record(deployment, actor=actor, reason=text)
    if deployment.environment.is_production:
        _mark_out(actor, [canary.release], ReleaseState.ROLLED_BACK, text)
    event_log_record(agent=deployment.agent, kind=EventLogKind.OVERRIDE, actor=actor,
                     summary=text if check_rights else f"Automatic: {text}")
    return deployment


# --- Rollback to the previous deployment ------------------------------------------------------

def _restored_routes(previous: Deployment) -> tuple[str, list[Route]]:
    if previous.strategy == Strategy.RAINBOW:
        return Strategy.RAINBOW, [Route(release=r.release, audience=r.audience)
                                  for r in previous.routes.all() if r.serves]
    serving = [r for r in previous.routes.all() if r.serves]
    top = max(serving, key=lambda r: r.weight or 0)
    return Strategy.ALL_AT_ONCE, [Route(release=top.release, weight=100)]


@transaction.atomic
def deployment_end(*, actor: User, deployment: Deployment, reason: str) -> Deployment:
    """Stop a deployment with nothing in its place: the environment serves no release of the
    agent (decommissioning, or taking an environment down). Whoever may deploy or suspend the
    agent may end its deployments."""
    deployment = lock(Deployment, deployment.pk)
    agent = deployment.agent
    require_that(may_deploy(actor, agent) or may_suspend(actor, agent),
                 "Only the agent's owner, a delegate, compliance, security or an admin may end "
                 "its deployments.")
    reason = _reason(reason)
    if deployment.state != DeploymentState.ACTIVE:
        raise Conflict("This deployment has already ended.")
    serving = serving_releases(deployment)
    _end(deployment, actor=actor, reason=f"Deployment ended: {reason}")
    if deployment.environment.is_production:
        _mark_out(actor, serving, ReleaseState.SUPERSEDED, f"Taken out of production: {reason}")
    event_log_record(agent=agent, kind=EventLogKind.STOPPED, actor=actor,
                     summary=f"Deployment in {deployment.environment} ended: {reason}")
    return deployment


@transaction.atomic
def deployment_rollback(*, actor: User, deployment: Deployment, reason: str) -> Deployment:
    """Undo the named deployment, refused (Conflict) once it is no longer the active one: a
    canary in progress goes back to its stable release; otherwise the deployment it replaced
    is restored. A rollback restores what already ran here, so it does not wait for the
    release gate."""
    agent = lock(Agent, deployment.agent_id)
    require_that(may_deploy(actor, agent),
                 "Only the agent's owner, a delegate or an admin may roll back.")
    reason = _reason(reason)
    if agent.stage not in DEPLOYABLE_STAGES:
        raise Conflict(f"{agent} is {agent.get_stage_display().lower()}: nothing can be "
                       "deployed to it, not even an earlier release.")
    current = lock(Deployment, deployment.pk)
    refusal = rollback_refusal(current)
    if refusal:
        raise Conflict(refusal)
    if current.canary_in_progress:
        return canary_rollback(actor=actor, deployment=current, reason=reason)
    environment, previous = current.environment, current.previous
    assert previous is not None  # rollback_refusal refuses a deployment with no earlier one
    strategy, routes = _restored_routes(previous)
    text = f"Rolled back to the deployment of {previous.started_at:%Y-%m-%d %H:%M}: {reason}"
    taken_out = serving_releases(current)
    _end(current, actor=actor, reason=text)
    restored = _create(actor=actor, agent=agent, environment=environment, strategy=strategy,
                       previous=previous.previous, reason=text, routes=routes)
    if environment.is_production:
        kept = {r.release.pk for r in routes}
        _mark_out(actor, [r for r in taken_out if r.pk not in kept], ReleaseState.ROLLED_BACK,
                  text)
        _mark_serving(actor, [r.release for r in routes], text)
    event_log_record(agent=agent, kind=EventLogKind.OVERRIDE, actor=actor,
                     summary=f"In {environment}: {text}")
    return restored
