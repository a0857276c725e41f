"""Thresholds: the tier policy's monitoring thresholds, overridden per agent, judged over a
window of production samples. A breach opens one alert per agent, metric and subject until the
figure is back within bounds; the policy switches roll a breaching canary back and suspend an
agent that exhausts its budget."""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ...accounts.models import User
from ...accounts.notifications import notify
from ...accounts.services import system_user
from ...core.errors import Conflict, DomainError, require_that
from ...core.lifecycle import lock, record
from ...inventory.choices import Stage
from ...inventory.models import Agent
from ...risk.models import TierPolicy
from ...risk.selectors import tier_policy
from ..choices import BUDGET_METRICS, CanaryState, DeploymentState, ThresholdMetric
from ..figures import p95_latency, totals
from ..models import Alert, Deployment, Environment, MetricSample, MonitoringSettings
from ..readings import Span, daily_figures
from ..rules import may_tune_monitoring
from .deployments import canary_rollback
from .killswitch import agent_suspend

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
RATES = {ThresholdMetric.ERROR_RATE: "errors",
         ThresholdMetric.TOOL_CALL_FAILURE_RATE: "tool_call_failures",
         ThresholdMetric.ESCALATION_RATE: "escalations"}


# --- What applies -------------------------------------------------------------------------

def clean_bound(value: Any) -> dict[str, float] | None:
    """{"min": x} or {"max": x} with a finite number, else None."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    (key, number), = value.items()
    if key not in ("min", "max") or isinstance(number, bool) or not isinstance(number, int | float):
        return None
    return {key: float(number)}


def effective_thresholds(agent: Agent, settings: MonitoringSettings | None,
                         policy_thresholds: Mapping | None = None) -> dict[str, dict]:
    """The tier policy's thresholds with the agent's overrides on top (known metrics only)."""
    if policy_thresholds is None:
        policy = tier_policy(agent.risk_tier)
        policy_thresholds = policy.monitoring_thresholds if policy else {}
    merged = {**policy_thresholds, **(settings.thresholds if settings else {})}
    return {metric: bound for metric, raw in merged.items()
            if metric in ThresholdMetric.values and (bound := clean_bound(raw))}


def budgets(settings: MonitoringSettings | None, deployment: Deployment | None
            ) -> dict[str, float]:
    """Daily and monthly budgets: the agent's settings, else the serving release's
    configuration (`daily_budget`, `monthly_budget`; a day is a thirtieth of the month)."""
    config: dict = {}
    if deployment is not None:
        serving = sorted((r for r in deployment.routes.all() if r.serves and not r.is_canary),
                         key=lambda r: -(r.weight or 0))
        if serving:
            config = serving[0].release.configuration or {}
    monthly = (settings.monthly_budget if settings and settings.monthly_budget is not None
               else _number(config.get("monthly_budget")))
    daily = (settings.daily_budget if settings and settings.daily_budget is not None
             else _number(config.get("daily_budget")))
    if daily is None and monthly is not None:
        daily = monthly / 30
    found = {ThresholdMetric.DAILY_COST: daily, ThresholdMetric.MONTHLY_COST: monthly}
    return {metric: value for metric, value in found.items() if value is not None}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def breaches(value: float, bound: Mapping[str, float]) -> bool:
    if "max" in bound:
        return value > bound["max"]
    return value < bound["min"]


# --- Figures ------------------------------------------------------------------------------

def release_figures(row: Mapping[str, float], p95: float | None) -> dict[str, float]:
    """A release's threshold figures from its window totals and p95 latency."""
    out: dict[str, float] = {}
    requests = row.get("requests") or 0
    for metric, count in RATES.items():
        if requests > 0:
            out[metric] = (row.get(count) or 0) / requests
    if "satisfaction" in row:
        out[ThresholdMetric.SATISFACTION] = row["satisfaction"]
    if p95 is not None:
        out[ThresholdMetric.LATENCY_P95_MS] = p95
    return out


def window_figures(agent_ids: list[int], production: Environment, now: datetime
                   ) -> dict[int, dict[tuple[str, int], float]]:
    """{agent: {(metric, release): figure}} over the window, in two queries for all agents."""
    samples = MetricSample.objects.filter(agent_id__in=agent_ids, environment=production,
                                          timestamp__gt=now - WINDOW, timestamp__lte=now)
    keys = ("agent_id", "release_id")
    sums, p95 = totals(samples, keys), p95_latency(samples, keys)
    out: dict[int, dict[tuple[str, int], float]] = defaultdict(dict)
    for agent_id, release_id in set(sums) | set(p95):
        row = sums.get((agent_id, release_id), {})
        for metric, value in release_figures(row, p95.get((agent_id, release_id))).items():
            out[agent_id][(metric, release_id)] = value
    return out


def cost_figures(agent_ids: list[int], production: Environment, now: datetime
                 ) -> dict[int, dict[str, float]]:
    """{agent: {daily_cost, monthly_cost}} for all agents together, from rollups for all but
    the recent window (a month of raw samples would grow with the traffic)."""
    local = timezone.localtime(now)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    found: dict[int, dict[str, float]] = {agent_id: {ThresholdMetric.DAILY_COST: 0.0,
                                                     ThresholdMetric.MONTHLY_COST: 0.0}
                                          for agent_id in agent_ids}
    daily = daily_figures(Span.of(month, now), agent_ids, production, ["cost"])
    for (agent_id, _, on), figures in daily.items():
        found[agent_id][ThresholdMetric.MONTHLY_COST] += figures["cost"]
        if on == day.date():
            found[agent_id][ThresholdMetric.DAILY_COST] += figures["cost"]
    return found


# --- Alerts -------------------------------------------------------------------------------

def _open_alert(*, agent: Agent, environment: Environment, metric: str, release_id: int | None,
                bound: dict, value: float, now: datetime, actor: User) -> Alert | None:
    alert = Alert(agent=agent, environment=environment, metric=metric, release_id=release_id,
                  subject_key=f"release:{release_id}" if release_id else "agent",
                  threshold=bound, value=value, last_value=value, opened_at=now)
    try:
        with transaction.atomic():
            record(alert, actor=actor, reason=f"{alert.get_metric_display()} {value:g} is not "
                                              f"{alert.bound_text}")
    except IntegrityError:
        return None  # opened by a simultaneous evaluation
    owners = [u for u in (agent.business_owner, agent.technical_owner) if u is not None]
    notify(users=owners, kind="operations-alert", subject=f"Alert: {alert}",
           body=f"{alert.get_metric_display()} is {value:g}, not {alert.bound_text}.",
           url=alert.get_absolute_url())
    return alert


def _clear_alert(alert: Alert, value: float, now: datetime, actor: User) -> None:
    alert = lock(Alert, alert.pk)
    if alert.cleared_at is None:
        alert.cleared_at, alert.last_value = now, value
        record(alert, actor=actor, reason=f"Back within threshold ({value:g})")


def _react(alert: Alert, *, settings: MonitoringSettings | None, deployment: Deployment | None,
           actor: User) -> None:
    """The policy switches, applied when an alert opens."""
    if settings is None:
        return
    why = (f"Automatic, on alert #{alert.pk}: {alert.get_metric_display()} {alert.value:g} is "
           f"not {alert.bound_text}")
    try:
        with transaction.atomic():
            if (settings.auto_rollback and alert.release_id and deployment is not None
                    and any(r.is_canary and r.release_id == alert.release_id
                            for r in deployment.routes.all())
                    and Deployment.objects.filter(pk=deployment.pk,
                                                  canary_state=CanaryState.IN_PROGRESS).exists()):
                canary_rollback(actor=actor, deployment=deployment, reason=why,
                                check_rights=False)
            if (settings.suspend_on_budget and alert.metric in BUDGET_METRICS
                    and Agent.objects.filter(pk=alert.agent_id, stage=Stage.LIVE).exists()):
                agent_suspend(actor=actor, agent=alert.agent, reason=f"Budget exhausted. {why}",
                              check_rights=False)
    except Conflict as error:  # already rolled back or suspended meanwhile
        log.info("Alert %s: no automatic action (%s).", alert.pk, error.message)


def _judge(agent: Agent, *, figures: dict[tuple[str, int | None], float],
           bounds: dict[tuple[str, int | None], dict], open_alerts: dict, production: Environment,
           now: datetime, actor: User) -> list[Alert]:
    opened = []
    for key, value in figures.items():
        bound = bounds.get(key)
        alert = open_alerts.get(key)
        if bound is not None and breaches(value, bound):
            if alert is None:
                new = _open_alert(agent=agent, environment=production, metric=key[0],
                                  release_id=key[1], bound=bound, value=value, now=now,
                                  actor=actor)
                opened += [new] if new else []
            else:
                Alert.objects.filter(pk=alert.pk).update(last_value=value)
        elif alert is not None:
            _clear_alert(alert, value, now, actor)
    return opened


@dataclass
class _Batch:
    """What judging a set of agents needs, fetched with a fixed number of queries."""

    production: Environment
    now: datetime
    actor: User
    policies: dict[str, Mapping]
    deployments: dict[int, Deployment]
    figures: dict[int, dict[tuple[str, int], float]]
    costs: dict[int, dict[str, float]]
    open_alerts: dict[int, dict[tuple[str, int | None], Alert]]


def _batch(agents: list[Agent], production: Environment, now: datetime) -> _Batch:
    ids = [agent.pk for agent in agents]
    policies = {p.tier: p.monitoring_thresholds or {} for p in
                TierPolicy.objects.filter(tier__in={agent.risk_tier for agent in agents})}
    deployments = {d.agent_id: d for d in Deployment.objects.filter(
        agent_id__in=ids, environment=production, state=DeploymentState.ACTIVE)
        .prefetch_related("routes__release")}
    open_alerts: dict[int, dict] = defaultdict(dict)
    for alert in Alert.objects.filter(agent_id__in=ids, cleared_at__isnull=True):
        open_alerts[alert.agent_id][(alert.metric, alert.release_id)] = alert
    return _Batch(production, now, system_user(), policies, deployments,
                  window_figures(ids, production, now), cost_figures(ids, production, now),
                  open_alerts)


def _evaluate_agent(agent: Agent, batch: _Batch) -> list[Alert]:
    settings = getattr(agent, "monitoring", None)
    thresholds = effective_thresholds(agent, settings, batch.policies.get(agent.risk_tier, {}))
    deployment = batch.deployments.get(agent.pk)
    figures: dict[tuple[str, int | None], float] = dict(batch.figures.get(agent.pk, {}).items())
    bounds = {key: thresholds[key[0]] for key in figures if key[0] in thresholds}
    limits = budgets(settings, deployment)
    for metric, limit in limits.items():
        figures[(metric, None)] = batch.costs[agent.pk][metric]
        bounds[(metric, None)] = {"max": limit}
    opened = _judge(agent, figures=figures, bounds=bounds,
                    open_alerts=batch.open_alerts.get(agent.pk, {}),
                    production=batch.production, now=batch.now, actor=batch.actor)
    for alert in opened:
        _react(alert, settings=settings, deployment=deployment, actor=batch.actor)
    return opened


def thresholds_evaluate(*, agent_ids: Iterable[int], now: datetime | None = None) -> list[Alert]:
    """Judge each agent's production figures; return the alerts opened. The figures of all the
    agents are read together; each agent is judged in its own transaction, so one agent's
    failure does not hold back the others."""
    now = now or timezone.now()
    production = Environment.objects.filter(is_production=True).first()
    if production is None:
        return []
    agents = list(Agent.objects.filter(pk__in=list(agent_ids)).select_related(
        "monitoring", "business_owner", "technical_owner"))
    if not agents:
        return []
    batch = _batch(agents, production, now)
    opened: list[Alert] = []
    for agent in agents:
        try:
            with transaction.atomic():
                opened += _evaluate_agent(agent, batch)
        except Exception:
            log.exception("Threshold evaluation failed for agent %s.", agent.pk)
    return opened


def agents_to_watch(now: datetime | None = None) -> list[int]:
    """Agents with production samples in the window or an open alert (the periodic scan)."""
    now = now or timezone.now()
    recent = MetricSample.objects.filter(environment__is_production=True,
                                         timestamp__gt=now - WINDOW).values_list("agent_id",
                                                                                 flat=True)
    alerted = Alert.objects.filter(cleared_at__isnull=True).values_list("agent_id", flat=True)
    return sorted(set(recent.distinct()) | set(alerted))


# --- Settings -----------------------------------------------------------------------------

def _clean_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, Mapping):
        raise DomainError("Give thresholds as {metric: {\"min\"|\"max\": number}}.",
                          field="thresholds")
    cleaned: dict[str, dict] = {}
    for metric, raw in thresholds.items():
        bound = clean_bound(raw)
        if metric not in ThresholdMetric.values or metric in BUDGET_METRICS or bound is None:
            raise DomainError(f"{metric}: give a known metric with {{\"min\"|\"max\": number}} "
                              "(budgets have their own fields).", field="thresholds")
        if next(iter(bound.values())) < 0:
            raise DomainError(f"{metric}: a threshold is not negative.", field="thresholds")
        cleaned[metric] = bound
    out: dict[str, Any] = {"thresholds": cleaned}
    for name in ("daily_budget", "monthly_budget"):
        given = data.get(name)
        value = _number(given)
        if given is not None and (value is None or value < 0):
            raise DomainError("Give a budget of zero or more.", field=name)
        out[name] = value
    out["auto_rollback"] = bool(data.get("auto_rollback"))
    out["suspend_on_budget"] = bool(data.get("suspend_on_budget"))
    return out


@transaction.atomic
def monitoring_settings_update(*, actor: User, agent: Agent, data: Mapping[str, Any],
                               reason: str) -> MonitoringSettings:
    """Set the agent's threshold overrides, budgets and policy switches."""
    agent = lock(Agent, agent.pk)
    require_that(may_tune_monitoring(actor, agent), "Only the agent's owner, a delegate, "
                                                    "compliance or an admin may tune monitoring.")
    if not (reason or "").strip():
        raise DomainError("Say why the monitoring changes.", field="reason")
    values = _clean_settings(data)
    settings = MonitoringSettings.objects.select_for_update().filter(agent=agent).first()
    settings = settings or MonitoringSettings(agent=agent)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.updated_by = actor
    record(settings, actor=actor, reason=reason.strip()[:1000])
    return settings
