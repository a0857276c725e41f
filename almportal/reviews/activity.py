"""When an agent was last seen working, for dormancy.

A live agent is dormant when it has shown no activity for its tier's `dormancy_days`. What counts
as activity comes from registered sources: operations registers "a metrics batch arrived" and
"the gateway polled the runtime status". Each source takes agent ids and returns
{agent id: time of the latest activity} in a fixed number of queries:

    from almportal.reviews.activity import register_activity_source

    def last_metrics(agent_ids):
        return dict(MetricsBatch.objects.filter(agent_id__in=agent_ids)
                    .values("agent_id").annotate(at=Max("received_at"))
                    .values_list("agent_id", "at"))

    register_activity_source(last_metrics)   # in OperationsConfig.ready()

Until any source is registered, the agent's last change to its record and its last release
deployment stand in for activity, so the loop works before operations exists. Once sources are
registered, an agent that has not reported yet counts from when it went live or was last
deployed.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from django.db.models import Max, Min

from ..inventory.choices import ReleaseState, Stage
from ..inventory.models import Agent, Release

ActivitySource = Callable[[list[int]], Mapping[int, datetime]]
_sources: list[ActivitySource] = []


def register_activity_source(source: ActivitySource) -> None:
    if source not in _sources:
        _sources.append(source)


def unregister_activity_source(source: ActivitySource) -> None:
    if source in _sources:
        _sources.remove(source)


def last_record_change(agent_ids: list[int]) -> dict[int, datetime]:
    return dict(Agent.objects.filter(pk__in=agent_ids).values_list("pk", "updated_at"))


def last_deployment(agent_ids: list[int]) -> dict[int, datetime]:
    """When a release of the agent last became deployed, from the releases' history."""
    rows = (Release.history.filter(agent_id__in=agent_ids, state=ReleaseState.DEPLOYED)
            .values("agent_id").annotate(at=Max("history_date")).values_list("agent_id", "at"))
    return dict(rows)


def went_live(agent_ids: list[int]) -> dict[int, datetime]:
    """When the agent first entered the live stage, from its history."""
    rows = (Agent.history.filter(id__in=agent_ids, stage=Stage.LIVE).values("id")
            .annotate(at=Min("history_date")).values_list("id", "at"))
    return dict(rows)


FALLBACK_SOURCES: tuple[ActivitySource, ...] = (last_record_change, last_deployment)
# Once real sources exist, an agent that has not reported yet is measured from when it went
# live (or was last deployed), not flagged the day it goes live.
FLOOR_SOURCES: tuple[ActivitySource, ...] = (went_live, last_deployment)


def last_activity(agent_ids: Iterable[int]) -> dict[int, datetime]:
    """The latest activity of each agent over every source (agents never seen are absent)."""
    ids = list(agent_ids)
    latest: dict[int, datetime] = {}
    for source in [*_sources, *FLOOR_SOURCES] if _sources else FALLBACK_SOURCES:
        for agent_id, at in source(ids).items():
            if at is not None and (agent_id not in latest or at > latest[agent_id]):
                latest[agent_id] = at
    return latest
