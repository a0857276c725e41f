from django import template

from ...inventory.choices import Stage
from ...inventory.rules import agent_stages
from .. import rules, selectors
from ..choices import PlanState

register = template.Library()


@register.simple_tag(takes_context=True)
def retirement_panel(context, agent) -> dict:
    """What the agent page's decommissioning panel shows this user."""
    request = context.get("request")
    user = getattr(request, "user", None)
    plan = selectors.latest_plan(agent)
    may_start = (plan is None or plan.state != "open") and user is not None \
        and agent_stages.allows(agent.stage, Stage.SUNSETTING) \
        and rules.may_manage(user, agent)
    archives = selectors.plan_archives(user, plan) if plan and plan.state == PlanState.RETIRED \
        and user else []
    return {"plan": plan, "may_start": may_start,
            "archive": archives[0] if archives and archives[0].final else None,
            "archive_pending": plan is not None and user is not None
            and rules.final_archive_pending(user, plan, archives)}
