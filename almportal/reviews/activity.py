"""When an agent was last seen working, for dormancy.

A live agent is dormant when it has shown no activity for its tier's `dormancy_days`. Activity
is a metrics sample arriving or the gateway polling the runtime status (operations.selectors);
an agent that has not reported yet counts from when it went live or was last deployed, so it is
not flagged the day it goes live. Each source takes agent ids and returns {agent id: time of the
latest activity} in a fixed number of queries.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from django.db.models import Max, Min, OuterRef, Q, QuerySet, Subquery

from ..inventory.choices import Stage
from ..inventory.models import Agent
from ..operations import selectors as operations
from ..operations.models import MetricSample, RuntimePoll
from ..releases.choices import ReleaseState
from ..releases.models import Release

ActivitySource = Callable[[list[int]], Mapping[int, datetime]]


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


SOURCES: tuple[ActivitySource, ...] = (operations.last_metric_sample, operations.last_runtime_poll,
                                      went_live, last_deployment)


def last_activity(agent_ids: Iterable[int]) -> dict[int, datetime]:
    """The latest activity of each agent over every source (agents never seen are absent)."""
    ids = list(agent_ids)
    latest: dict[int, datetime] = {}
    for source in SOURCES:
        for agent_id, at in source(ids).items():
            if at is not None and (agent_id not in latest or at > latest[agent_id]):
                latest[agent_id] = at
    return latest


# --- The same sources, as columns: for pages that select dormant agents in the database ------

def _latest(rows: QuerySet, agent: str, at: str, aggregate: type[Max | Min] = Max) -> Subquery:
    return Subquery(rows.filter(**{agent: OuterRef("pk")}).order_by().values(agent)
                    .annotate(at=aggregate(at)).values("at"))


def activity_columns() -> dict[str, Subquery]:
    """One column per source above, each agent's latest time in it (NULL when never seen)."""
    return {
        "seen_metric": _latest(MetricSample.objects.all(), "agent_id", "timestamp"),
        "seen_poll": _latest(RuntimePoll.objects.all(), "agent_id", "last_polled_at"),
        "seen_live": _latest(Agent.history.filter(stage=Stage.LIVE), "id", "history_date", Min),
        "seen_deployed": _latest(Release.history.filter(state=ReleaseState.DEPLOYED),
                                 "agent_id", "history_date"),
    }


def quiet_since(cutoff: datetime) -> Q:
    """No activity after `cutoff` in any source (on rows annotated with activity_columns):
    last_activity is then at or before the cutoff, or there is none."""
    quiet = Q()
    for column in activity_columns():
        quiet &= Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__lte": cutoff})
    return quiet
