"""Agent.last_active_at from the records that held activity before it existed: the latest
metrics sample and runtime poll, when the agent first went live, its latest deployment."""

from django.db import migrations
from django.db.models import Max, Min, OuterRef, Subquery


def latest(rows, agent_field, at, aggregate=Max):
    return Subquery(rows.filter(**{agent_field: OuterRef("pk")}).order_by().values(agent_field)
                    .annotate(at=aggregate(at)).values("at"))


def backfill(apps, schema_editor):
    Agent = apps.get_model("inventory", "Agent")
    HistoricalAgent = apps.get_model("inventory", "HistoricalAgent")
    HistoricalRelease = apps.get_model("inventory", "HistoricalRelease")
    MetricSample = apps.get_model("operations", "MetricSample")
    RuntimePoll = apps.get_model("operations", "RuntimePoll")
    agents = Agent.objects.annotate(
        seen_metric=latest(MetricSample.objects.all(), "agent_id", "timestamp"),
        seen_poll=latest(RuntimePoll.objects.all(), "agent_id", "last_polled_at"),
        seen_live=latest(HistoricalAgent.objects.filter(stage="live"), "id", "history_date", Min),
        seen_deployed=latest(HistoricalRelease.objects.filter(state="deployed"), "agent_id",
                             "history_date"),
    )
    changed = []
    for agent in agents.iterator(chunk_size=1000):
        seen = [at for at in (agent.seen_metric, agent.seen_poll, agent.seen_live,
                              agent.seen_deployed) if at is not None]
        if seen:
            agent.last_active_at = max(seen)
            changed.append(agent)
    Agent.objects.bulk_update(changed, ["last_active_at"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0001_initial"),
        ("inventory", "0006_agent_last_active_at"),
        ("operations", "0006_rollup_reading_indexes"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
