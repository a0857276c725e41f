from django import template

from ...audit.rules import can_view_audit
from ...releases.services import release_gate
from .. import selectors, timeline

register = template.Library()


@register.simple_tag(takes_context=True)
def agent_overview(context, agent) -> dict:
    """The agent page's summary header and one page of its timeline."""
    request = context.get("request")
    page = request.GET.get("timeline") if request is not None else None
    user = getattr(request, "user", None)
    return {
        "summary": selectors.agent_summary(agent, gate_of=release_gate),
        "timeline": timeline.agent_timeline(agent, page or 1),
        "audit": user is not None and can_view_audit(user),
    }
