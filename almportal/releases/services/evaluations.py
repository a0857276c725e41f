"""Evaluation suites and the runs recorded on releases."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from ...accounts.models import User
from ...accounts.permissions import require
from ...core.errors import Conflict, DomainError, NotPermitted, clean_or_refuse
from ...core.lifecycle import lock, record
from ...inventory.choices import CLOSED_STAGES
from ...inventory.models import Agent
from ..choices import METRICS, ReleaseState, RunSource
from ..models import EvaluationRun, EvaluationSuite, Release
from .common import may_record_runs, policy_for
from .gate import approve_if_ready, judge_metrics, production_baseline


def clean_metrics(value: Any, suite: EvaluationSuite) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise DomainError("Give the metrics as {metric: number}.", field="metrics")
    errors = []
    cleaned = {}
    for key, number in value.items():
        if key not in METRICS:
            errors.append(f"Unknown metric {key!r}: use {', '.join(METRICS)}.")
        elif key not in suite.metrics:
            errors.append(f"The suite {suite.name} does not measure "
                          f"{METRICS[key].label.lower()}.")
        elif isinstance(number, bool) or not isinstance(number, int | float) or number < 0 \
                or number != number or number in (float("inf"),):
            errors.append(f"{METRICS[key].label} must be a number of at least 0.")
        elif METRICS[key].is_rate and number > 1:
            errors.append(f"{METRICS[key].label} is a rate between 0 and 1.")
        else:
            cleaned[key] = float(number)
    if errors:
        raise DomainError("Some metrics are not valid.", errors={"metrics": errors})
    return cleaned


@transaction.atomic
def evaluation_suite_create(*, actor: User, agent: Agent, name: str, dataset_ref: str,
                            dataset_version: str, metrics: list[str]) -> EvaluationSuite:
    agent = lock(Agent, agent.pk)
    require(actor, "inventory.change_agent", agent,
            message="Only the agent's owner, a delegate or an admin defines its evaluations.")
    if agent.stage in CLOSED_STAGES:
        raise Conflict(f"{agent} is {agent.get_stage_display().lower()}: it takes no new "
                       "evaluation suites.")
    if not isinstance(metrics, list) or not metrics or set(metrics) - set(METRICS):
        raise DomainError(f"Choose metrics among {', '.join(METRICS)}.", field="metrics")
    name = (name or "").strip()
    if EvaluationSuite.objects.filter(agent=agent, name=name).exists():
        raise DomainError("This agent already has a suite of that name.", field="name")
    suite = EvaluationSuite(agent=agent, name=name, dataset_ref=(dataset_ref or "").strip(),
                            dataset_version=(dataset_version or "").strip(),
                            metrics=sorted(set(metrics), key=list(METRICS).index),
                            created_by=actor)
    clean_or_refuse(suite)
    record(suite, actor=actor, reason=f"Evaluation suite {name} defined")
    return suite


@transaction.atomic
def evaluation_run_record(*, actor: User, release: Release, suite: EvaluationSuite,
                          metrics: Mapping[str, Any], source: str = RunSource.PAGE,
                          notes: str = "") -> EvaluationRun:
    """Record what a run of a suite measured on a release; the tier's thresholds and the
    release in production decide whether it passed."""
    release = lock(Release, release.pk)
    if not may_record_runs(actor, release):
        raise NotPermitted("Only the agent's owner, a delegate, an admin or a CI service account "
                           "granted the right records its evaluation runs.")
    if suite.agent_id != release.agent_id:
        raise DomainError("The suite belongs to another agent.", field="suite")
    if release.state not in (ReleaseState.DRAFT, ReleaseState.SUBMITTED):
        raise Conflict(f"Release {release.display_version} is "
                       f"{release.get_state_display().lower()}: evaluations are recorded on "
                       "draft or submitted releases.")
    cleaned = clean_metrics(metrics, suite)
    policy = policy_for(release)
    baseline_release, baseline = production_baseline(release, suite)
    failures = judge_metrics(cleaned, policy, baseline, baseline_release)
    run = EvaluationRun(release=release, suite=suite, manifest_hash=release.manifest_hash,
                        metrics=cleaned, passed=not failures, failures=failures,
                        baseline_release=baseline_release, source=source,
                        notes=(notes or "").strip()[:1000], created_by=actor)
    record(run, actor=actor, reason=f"Evaluation run of {suite.name}: "
                                    f"{'passed' if run.passed else 'failed'}")
    approve_if_ready(actor=actor, release=release)
    return run
