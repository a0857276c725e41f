"""OTLP/HTTP metrics ingestion: an export request mapped onto samples (operations.otlp),
each resource matched to an agent and a release, stored as one ingestion batch. Points that
cannot be mapped are refused with their reason (OTLP's partialSuccess); points from an agent
the inventory does not know are kept with its discovery finding. The same export sent again
(an exporter's retry) stores nothing twice: the batch id is the body's hash."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from ...accounts.models import ApiToken, User
from ...core.errors import DomainError, require_that
from ...core.hashing import sha256_hex
from ...core.lifecycle import record
from ...inventory.models import Agent
from ...inventory.selectors import agents_for_gateway
from ...releases.models import Release
from .. import otlp
from ..models import Environment, IngestBatch, TelemetryName
from ..rules import may_map_telemetry
from .discovery import discovery_record
from .ingest import IngestResult, Row, batch_store, check_time, check_value

DEFAULT_ENVIRONMENT = "production"


@dataclass
class OtlpResult:
    points: int = 0
    stored: int = 0
    rejected: int = 0
    discovered: int = 0
    duplicate: bool = False
    reasons: Counter = field(default_factory=Counter)

    def refuse(self, count: int, reason: str) -> None:
        if count:
            self.rejected += count
            self.reasons[reason] += count

    @property
    def messages(self) -> list[str]:
        return [f"{reason} ({count} points)" for reason, count in self.reasons.most_common(10)]


@dataclass
class _Lookups:
    """Everything matching needs, in a fixed number of queries for the whole export."""

    aliases: dict[str, int]
    slugs: dict[str, int]
    visible: set[int]
    releases: dict[tuple[int, str], int]
    environments: dict[str, int]

    def agent_id(self, resource: otlp.Resource) -> int | None:
        names = resource.names
        return next((self.aliases[n] for n in names if n in self.aliases),
                    next((self.slugs[n] for n in names if n in self.slugs), None))

    def release_id(self, agent_id: int, resource: otlp.Resource) -> int | None:
        for key in (otlp.RELEASE_HASH, otlp.RELEASE_VERSION):
            value = resource.attributes.get(key)
            if value is not None:
                return self.releases.get((agent_id, str(value).removeprefix("#")))
        return None


def _lookups(actor: User, resources: list[otlp.Resource]) -> _Lookups:
    names = {name for resource in resources for name in resource.names}
    aliases = dict(TelemetryName.objects.filter(name__in=names).values_list("name", "agent_id"))
    slugs = dict(Agent.objects.filter(slug__in=names).values_list("slug", "pk"))
    candidates = set(aliases.values()) | set(slugs.values())
    visible = set(agents_for_gateway(actor, "ingest_metrics").filter(pk__in=candidates)
                  .values_list("pk", flat=True))
    releases: dict[tuple[int, str], int] = {}
    for pk, agent_id, number, label, digest in Release.objects.filter(
            agent_id__in=visible).values_list("pk", "agent_id", "number", "label",
                                              "manifest_hash"):
        releases.update({(agent_id, str(number)): pk, (agent_id, digest): pk})
        if label:
            releases[(agent_id, label)] = pk
    environments = dict(Environment.objects.values_list("slug", "pk"))
    return _Lookups(aliases, slugs, visible, releases, environments)


def _rows(resource: otlp.Resource, ids: tuple[int, int, int], now: datetime,
          result: OtlpResult) -> list[Row]:
    rows: list[Row] = []
    for point in resource.points:
        if point.refused:
            result.refuse(1, point.refused)
            continue
        at, problem = check_time(point.at, now)
        checked = [(v.metric, *check_value(v.value, v.metric)) for v in point.values]
        problem = problem or next((f"{m}: {p}" for m, _, p in checked if p), "")
        if problem or at is None:  # no problem means a time and every value are there
            result.refuse(1, problem)
            continue
        rows += [(*ids, at, metric, value) for metric, value, _ in checked if value is not None]
    return rows


def _resource_refusal(resource: otlp.Resource, look: _Lookups, agent_id: int
                      ) -> tuple[str, tuple[int, int, int] | None]:
    if agent_id not in look.visible:
        return f"agent {resource.names[0]!r} is not visible to this token", None
    release_id = look.release_id(agent_id, resource)
    if release_id is None:
        return (f"agent {resource.names[0]!r}: no release matches {otlp.RELEASE_HASH} or "
                f"{otlp.RELEASE_VERSION}"), None
    environment = resource.environment or DEFAULT_ENVIRONMENT
    environment_id = look.environments.get(environment)
    if environment_id is None:
        return f"unknown environment {environment!r}", None
    return "", (agent_id, release_id, environment_id)


def otlp_ingest(*, actor: User, token: ApiToken | None, body: bytes, content_type: str,
                now: datetime | None = None) -> OtlpResult:
    """Map and store one export request. Raises otlp.BadRequest for an unreadable body."""
    request = otlp.decode(body, content_type)
    now = now or timezone.now()
    batch_id = f"otlp-{sha256_hex(body)[:40]}"
    result = OtlpResult()
    resources = list(otlp.resources(request))
    result.points = sum(len(resource.points) for resource in resources)
    if IngestBatch.objects.filter(user=actor, batch_id=batch_id).exists():
        result.duplicate = True
        return result
    look = _lookups(actor, resources)
    rows: list[Row] = []
    for resource in resources:
        if not resource.names:
            result.refuse(len(resource.points), "the resource has no service.name")
            continue
        agent_id = look.agent_id(resource)
        if agent_id is None:
            result.discovered += discovery_record(actor=actor, resource=resource, now=now)
            continue
        problem, ids = _resource_refusal(resource, look, agent_id)
        if ids is None:  # refused, for the problem named
            result.refuse(len(resource.points), problem)
            continue
        rows += _rows(resource, ids, now, result)
    stored = batch_store(actor=actor, token=token, batch_id=batch_id, rows=rows,
                         result=IngestResult(batch=None), item_count=len(rows))
    result.stored, result.duplicate = stored.stored, stored.duplicate
    return result


def telemetry_name_add(*, actor: User, agent: Agent, name: str) -> TelemetryName:
    """Map a name its telemetry arrives under (service.name, gen_ai.agent.name) to the agent."""
    require_that(may_map_telemetry(actor, agent),
                 "Only the agent's owner, a delegate or an admin may map its telemetry.")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise DomainError("Give a name of 1 to 200 characters.", field="name")
    if Agent.objects.filter(slug=name).exclude(pk=agent.pk).exists():
        raise DomainError("Another agent has this slug.", field="name")
    mapping = TelemetryName(name=name, agent=agent, added_by=actor)
    try:
        with transaction.atomic():
            record(mapping, actor=actor, reason=f"Telemetry named {name!r} is {agent}")
    except IntegrityError:
        raise DomainError("This name is already mapped.", field="name") from None
    return mapping
