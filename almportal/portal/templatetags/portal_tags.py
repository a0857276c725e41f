from django import template

from ...audit.rules import can_view_audit
from ...releases.gate_summary import gate_summary_for
from ...releases.services import Gate, release_gate
from .. import selectors, timeline

register = template.Library()


@register.simple_tag(takes_context=True)
def agent_overview(context, agent) -> dict:
    """The agent page's summary header (with the next step on the release in progress) and one
    page of its timeline."""
    request = context.get("request")
    page = request.GET.get("timeline") if request is not None else None
    user = getattr(request, "user", None)
    summary = selectors.agent_summary(agent, gate_of=release_gate)
    return {
        "summary": summary,
        # The current release's next step for this person, as its release page says it.
        "gate_next": gate_summary_for(user, summary.gate).next_step
        if user is not None and isinstance(summary.gate, Gate) else "",
        "timeline": timeline.agent_timeline(agent, page or 1),
        "audit": user is not None and can_view_audit(user),
    }
