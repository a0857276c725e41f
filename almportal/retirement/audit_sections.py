"""What decommissioning adds to the audit area: the plan, its tasks with their proof, the
sign-offs and the archive records, in the evidence pack and the as-of view."""

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
from .models import Archive, DecommissionPlan, DecommissionTask, RetirementSignOff

MODELS = ["retirement.decommissionplan", "retirement.decommissiontask",
          "retirement.retirementsignoff", "retirement.archive"]


def decommission_files(plans, archives) -> Iterable[PackFile]:
    yield PackFile("plans.json", as_json([{
        **record_dict(plan),
        "contact_users": sorted(u.get_username() for u in plan.contact_users.all()),
        "tasks": [record_dict(t) for t in plan.tasks.all()],
        "signoffs": [record_dict(s) for s in plan.signoffs.all()],
    } for plan in plans]), records="retirement.decommissionplan",
        nested=(("tasks", "retirement.decommissiontask"),
                ("signoffs", "retirement.retirementsignoff")))
    yield PackFile("archives.json", as_json([record_dict(a) for a in archives]),
                   records="retirement.archive")


pack_decommissioning, bulk_decommissioning = agent_rows_section(
    decommission_files,
    DecommissionPlan.objects.order_by("pk").prefetch_related("tasks", "signoffs",
                                                             "contact_users"),
    Archive.objects.order_by("pk"))


def as_of_decommissioning(agent: Agent, at: datetime) -> AsOfSection:
    plans = list(as_of(DecommissionPlan, at, agent_id=agent.pk).order_by("pk"))
    ids = [p.pk for p in plans]
    items = [AsOfItem(f"Plan #{p.pk}", display_fields(p, skip={"agent"})) for p in plans]
    items += [AsOfItem(f"Task {t.title} (plan #{t.plan_id})", display_fields(t, skip={"plan"}))
              for t in as_of(DecommissionTask, at, plan_id__in=ids).order_by("plan_id", "pk")]
    items += [AsOfItem(f"Sign-off as {s.role} (plan #{s.plan_id})",
                       display_fields(s, skip={"plan"}))
              for s in as_of(RetirementSignOff, at, plan_id__in=ids).order_by("pk")]
    items += [AsOfItem(f"Archive {a.file_name}", display_fields(a, skip={"agent"}))
              for a in as_of(Archive, at, agent_id=agent.pk).order_by("pk")]
    return AsOfSection("Decommissioning", items)


def register() -> None:
    register_pack_section("decommissioning", pack_decommissioning, models=MODELS, order=70,
                          bulk=bulk_decommissioning)
    register_as_of_section("decommissioning", as_of_decommissioning, models=MODELS, order=70)
    register_agent_path("retirement.decommissiontask", "plan__agent")
    register_agent_path("retirement.retirementsignoff", "plan__agent")
