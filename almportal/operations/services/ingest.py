"""Monitoring ingestion: a batch of samples validated item by item.

Valid items are stored and invalid ones refused, each with its errors; a stored sample is
whole (one row, written in the same transaction as its batch). The batch is recorded once per
client batch id: sent again, it stores nothing and says so. A batch in which every item is
refused is not recorded, so it can be corrected and sent again under the same id; corrections
of the refused items of a stored batch go into a new batch.

The valid rows are written with one statement (PostgreSQL's COPY, a multi-row insert
elsewhere), and thresholds are judged by the worker after the batch commits, so a batch costs
the same whatever the window already holds."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ...accounts.models import ApiToken, User
from ...core.errors import DomainError
from ...inventory import services as inventory
from ...inventory.choices import CLOSED_STAGES
from ...inventory.models import Agent
from ...inventory.selectors import agents_for_gateway
from ...releases.models import Release
from ..choices import SAMPLE_METRICS
from ..models import Environment, IngestBatch, MetricSample

MAX_BATCH = 1000
MAX_AGE = timedelta(days=30)
CLOCK_SKEW = timedelta(minutes=5)
FIELDS = ("agent", "release", "environment", "timestamp", "metric", "value")
# A valid item as written: agent, release, environment, timestamp, metric, value.
Row = tuple[int, int, int, datetime, str, float]
COLUMNS = ("agent_id", "release_id", "environment_id", "timestamp", "metric", "value")


@dataclass
class IngestResult:
    batch: IngestBatch | None
    duplicate: bool = False
    items: list[dict] = field(default_factory=list)
    stored: int = 0
    refused: int = 0
    agent_ids: set[int] = field(default_factory=set)


@dataclass
class _Lookups:
    agents: dict[str, int]
    releases: dict[tuple[int, int], int]
    environments: dict[str, int]
    closed: frozenset[int] = frozenset()  # retired agents: they take no new samples


def _lookups(actor: User, items: Sequence[Any]) -> _Lookups:
    dicts = [item for item in items if isinstance(item, Mapping)]
    slugs = {str(item.get("agent")) for item in dicts if item.get("agent") is not None}
    agents = dict(agents_for_gateway(actor, "ingest_metrics").filter(slug__in=slugs)
                  .values_list("slug", "pk"))
    numbers = {item["release"] for item in dicts if type(item.get("release")) is int}
    rows = Release.objects.filter(agent_id__in=agents.values(), number__in=numbers)
    releases = {(a, n): pk for pk, a, n in rows.values_list("pk", "agent_id", "number")}
    environments = dict(Environment.objects.values_list("slug", "pk"))
    closed = frozenset(Agent.objects.filter(pk__in=agents.values(), stage__in=CLOSED_STAGES)
                       .values_list("pk", flat=True))
    return _Lookups(agents, releases, environments, closed)


def _timestamp(value: Any, now: datetime) -> tuple[datetime | None, str]:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return None, "Give an ISO 8601 date and time."
    if timezone.is_naive(parsed):
        return None, "Give the time zone (e.g. Z or +01:00)."
    return check_time(parsed, now)


def check_time(parsed: datetime, now: datetime) -> tuple[datetime | None, str]:
    """Neither in the future (beyond the clock skew) nor older than the samples kept."""
    if parsed > now + CLOCK_SKEW:
        return None, "The time is in the future."
    if parsed < now - MAX_AGE:
        return None, f"The time is more than {MAX_AGE.days} days ago."
    return parsed, ""


def check_value(value: Any, metric: Any) -> tuple[float | None, str]:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None, "Give a number."
    spec = SAMPLE_METRICS.get(metric) if isinstance(metric, str) else None
    if spec is not None and not 0 <= value <= spec.maximum:
        return None, f"Must be between 0 and {spec.maximum:g}."
    return float(value), ""


def _check_item(item: Any, look: _Lookups, now: datetime
                ) -> tuple[Row | None, dict[str, list[str]]]:
    if not isinstance(item, Mapping):
        return None, {"non_field_errors": ["Each sample is an object."]}
    errors: dict[str, list[str]] = {}
    for name in sorted(set(item) - set(FIELDS)):
        errors[name] = ["Unknown field."]
    for name in FIELDS:
        if item.get(name) is None:
            errors[name] = ["This field is required."]
    agent_id = look.agents.get(str(item.get("agent")))
    if "agent" not in errors and agent_id is None:
        errors["agent"] = ["No such agent, or not visible to this token."]
    if agent_id in look.closed:
        errors["agent"] = ["The agent is retired: it takes no new samples."]
    release = item.get("release")
    release_id = (look.releases.get((agent_id, release))
                  if agent_id is not None and type(release) is int else None)
    if "release" not in errors and agent_id is not None and release_id is None:
        errors["release"] = ["No release with this number for this agent."]
    env_id = look.environments.get(str(item.get("environment")))
    if "environment" not in errors and env_id is None:
        errors["environment"] = ["Unknown environment."]
    metric = item.get("metric")
    if "metric" not in errors and not (isinstance(metric, str) and metric in SAMPLE_METRICS):
        errors["metric"] = ["Use one of: " + ", ".join(SAMPLE_METRICS) + "."]
    ts, problem = _timestamp(item.get("timestamp"), now) if "timestamp" not in errors else (None,
                                                                                           "")
    if problem:
        errors["timestamp"] = [problem]
    value, problem = check_value(item.get("value"), metric) if "value" not in errors else (None, "")
    if problem:
        errors["value"] = [problem]
    if errors:
        return None, errors
    # Each check above passed, so nothing is missing.
    assert agent_id is not None and release_id is not None and env_id is not None
    assert ts is not None and isinstance(metric, str) and value is not None
    return (agent_id, release_id, env_id, ts, metric, value), {}


def _clean_envelope(batch_id: Any, samples: Any) -> str:
    if not isinstance(batch_id, str) or not batch_id.strip() or len(batch_id) > 100:
        raise DomainError("Give a batch id of 1 to 100 characters.", field="batch_id")
    if not isinstance(samples, list) or not samples:
        raise DomainError("Give a non-empty list of samples.", field="samples")
    if len(samples) > MAX_BATCH:
        raise DomainError(f"At most {MAX_BATCH} samples per batch.", field="samples")
    return batch_id.strip()


def _duplicate(batch: IngestBatch) -> IngestResult:
    return IngestResult(batch=batch, duplicate=True)


def samples_ingest(*, actor: User, token: ApiToken | None, batch_id: Any, samples: Any,
                   now: datetime | None = None) -> IngestResult:
    """Validate every item; store the valid ones with their batch, once per batch id."""
    batch_id = _clean_envelope(batch_id, samples)
    now = now or timezone.now()
    existing = IngestBatch.objects.filter(user=actor, batch_id=batch_id).first()
    if existing is not None:
        return _duplicate(existing)
    look = _lookups(actor, samples)
    result, rows = IngestResult(batch=None), []
    for index, item in enumerate(samples):
        row, errors = _check_item(item, look, now)
        if row is None:
            result.items.append({"index": index, "status": "refused", "errors": errors})
        else:
            rows.append(row)
            result.items.append({"index": index, "status": "stored"})
    return batch_store(actor=actor, token=token, batch_id=batch_id, rows=rows, result=result,
                       item_count=len(samples))


def batch_store(*, actor: User, token: ApiToken | None, batch_id: str, rows: Sequence[Row],
                result: IngestResult, item_count: int) -> IngestResult:
    """Record the batch with its valid rows in one transaction, once per batch id; the
    thresholds are judged after it commits. A batch with no valid row is not recorded."""
    result.stored, result.refused = len(rows), item_count - len(rows)
    if not rows:
        return result
    result.agent_ids = {row[0] for row in rows}
    try:
        with transaction.atomic():
            result.batch = IngestBatch.objects.create(
                user=actor, token=token, batch_id=batch_id, item_count=item_count,
                stored_count=result.stored, refused_count=result.refused)
            samples_write(result.batch.pk, rows)
            inventory.agents_seen(latest_by_agent(rows))
            judge_after_commit(result.agent_ids)
    except IntegrityError:
        return _duplicate(IngestBatch.objects.get(user=actor, batch_id=batch_id))
    return result


def samples_write(batch_id: int, rows: Sequence[Row]) -> None:
    """Append the rows in one statement: COPY on PostgreSQL, a multi-row insert elsewhere."""
    if connection.vendor != "postgresql":
        MetricSample.objects.bulk_create(
            [MetricSample(batch_id=batch_id, **dict(zip(COLUMNS, row, strict=True)))
             for row in rows], batch_size=500)
        return
    table = MetricSample._meta.db_table
    with connection.cursor() as cursor, cursor.cursor.copy(
            f'COPY "{table}" ({", ".join(COLUMNS)}, batch_id) FROM STDIN') as copy:
        for row in rows:
            copy.write_row((*row, batch_id))


def latest_by_agent(rows: Sequence[Row]) -> dict[int, datetime]:
    """Each agent's latest sample in the batch: metrics arriving are activity (dormancy)."""
    latest: dict[int, datetime] = {}
    for agent_id, _, _, at, _, _ in rows:
        if agent_id not in latest or at > latest[agent_id]:
            latest[agent_id] = at
    return latest


def judge_after_commit(agent_ids: set[int]) -> None:
    """Thresholds are judged by the worker once the samples are committed."""
    from ..tasks import thresholds_after_batch  # tasks call services: imported when needed

    ids = sorted(agent_ids)
    transaction.on_commit(lambda: thresholds_after_batch.delay(ids))
