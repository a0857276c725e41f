"""What operations adds to the audit area: deployments, suspensions, alerts and incidents in
the evidence pack and the as-of view, and the filing of route and timeline rows under their
agent."""

from collections.abc import Iterable
from datetime import datetime

from ..audit.registry import (
    AsOfItem,
    AsOfSection,
    PackFile,
    register_agent_path,
    register_as_of_section,
    register_pack_section,
)
from ..audit.sections import agent_rows_section, as_json, as_of, display_fields, record_dict
from ..inventory.models import Agent
from .models import Alert, Deployment, EventLog, Incident, Overseer, Route, Suspension

MODELS = {
    "deployments": ["operations.deployment", "operations.route", "operations.suspension"],
    "incidents": ["operations.incident", "operations.incidentevent", "operations.alert",
                  "operations.monitoringsettings"],
}


def deployment_files(deployments, suspensions) -> Iterable[PackFile]:
    rows = [{**record_dict(d), "routes": [record_dict(r) for r in d.routes.all()]}
            for d in deployments]
    yield PackFile("deployments.json", as_json(rows), records="operations.deployment",
                   nested=(("routes", "operations.route"),))
    yield PackFile("suspensions.json", as_json([record_dict(s) for s in suspensions]),
                   records="operations.suspension")


def incident_files(incidents, alerts) -> Iterable[PackFile]:
    yield PackFile("incidents.json", as_json(
        [{**record_dict(i), "timeline": [record_dict(e) for e in i.events.all()]}
         for i in incidents]), records="operations.incident",
        nested=(("timeline", "operations.incidentevent"),))
    yield PackFile("alerts.json", as_json([record_dict(a) for a in alerts]),
                   records="operations.alert")


def overseer_files(overseers) -> Iterable[PackFile]:
    """The named human overseers with their training records (EU AI Act Art. 14, 26(2))."""
    yield PackFile("overseers.json", as_json([record_dict(o) for o in overseers]),
                   records="operations.overseer")


def event_log_files(events) -> Iterable[PackFile]:
    """Usage periods, stops and overrides, kept at least six months."""
    yield PackFile("event-log.json", as_json([record_dict(e) for e in events]),
                   records="operations.eventlog")


pack_deployments, bulk_deployments = agent_rows_section(
    deployment_files, Deployment.objects.prefetch_related("routes").order_by("pk"),
    Suspension.objects.order_by("pk"))
pack_incidents, bulk_incidents = agent_rows_section(
    incident_files, Incident.objects.prefetch_related("events").order_by("pk"),
    Alert.objects.order_by("pk"))
pack_overseers, bulk_overseers = agent_rows_section(overseer_files,
                                                    Overseer.objects.order_by("pk"))
pack_event_log, bulk_event_log = agent_rows_section(event_log_files,
                                                    EventLog.objects.order_by("at", "pk"))


def as_of_deployments(agent: Agent, at: datetime) -> AsOfSection:
    items = [AsOfItem(f"Deployment #{d.pk}", display_fields(d, skip={"agent"}))
             for d in as_of(Deployment, at, agent_id=agent.pk).order_by("pk")]
    ids = list(agent.deployments.values_list("pk", flat=True))
    items += [AsOfItem(f"Route #{r.pk} of deployment #{r.deployment_id}",
                       display_fields(r, skip={"deployment"}))
              for r in as_of(Route, at, deployment_id__in=ids).order_by("pk")]
    items += [AsOfItem(f"Suspension #{s.pk}", display_fields(s, skip={"agent"}))
              for s in as_of(Suspension, at, agent_id=agent.pk).order_by("pk")]
    return AsOfSection("Deployments and suspensions", items)


def as_of_incidents(agent: Agent, at: datetime) -> AsOfSection:
    items = [AsOfItem(f"Incident #{i.pk}", display_fields(i, skip={"agent"}))
             for i in as_of(Incident, at, agent_id=agent.pk).order_by("pk")]
    items += [AsOfItem(f"Alert #{a.pk}", display_fields(a, skip={"agent"}))
              for a in as_of(Alert, at, agent_id=agent.pk).order_by("pk")]
    return AsOfSection("Alerts and incidents", items)


def register() -> None:
    register_pack_section("operations", pack_deployments, models=MODELS["deployments"], order=60,
                          bulk=bulk_deployments)
    register_pack_section("incidents", pack_incidents, models=MODELS["incidents"], order=61,
                          bulk=bulk_incidents)
    register_as_of_section("operations", as_of_deployments, models=MODELS["deployments"],
                           order=60)
    register_as_of_section("incidents", as_of_incidents, models=MODELS["incidents"], order=61)
    register_agent_path("operations.route", "deployment__agent")
    register_agent_path("operations.incidentevent", "incident__agent")
    register_pack_section("oversight", pack_overseers, models=["operations.overseer"], order=62,
                          bulk=bulk_overseers)
    register_pack_section("event-log", pack_event_log, models=["operations.eventlog"], order=63,
                          bulk=bulk_event_log)

