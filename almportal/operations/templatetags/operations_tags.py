from django import template

from .. import rules, selectors
from ..choices import IncidentStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def operations_panel(context, agent) -> dict:
    """What the agent page's operations panel shows this user."""
    request = context.get("request")
    user = getattr(request, "user", None)
    production = selectors.production()
    if production is None:
        return {"runtime": None, "deployment": None, "open_alerts": 0, "open_incidents": 0,
                "may_open_incident": False}
    return {
        "runtime": selectors.runtime_status(agent, production),
        "deployment": selectors.active_deployment(agent, production),
        "open_alerts": agent.alerts.filter(cleared_at__isnull=True).count(),
        "open_incidents": agent.incidents.exclude(status=IncidentStatus.RESOLVED).count(),
        "may_open_incident": user is not None and rules.may_open_incident(user, agent),
    }


@register.simple_tag
def oversight_gap(agent) -> str | None:
    """Why the agent lacks the human oversight its tier needs in production, or None."""
    return selectors.oversight_gap_of(agent)
