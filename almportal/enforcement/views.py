"""The agent's OSCAL Assessment Results as a download (linked from its audit page)."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from ..audit.rules import can_export
from ..audit.selectors import audit_agents
from . import oscal


def export_agent_for(user, slug: str):
    """The agent whose audit trail the user may export (403 without the right, then 404)."""
    if not can_export(user):
        raise PermissionDenied("Your role may not export audit history.")
    return get_object_or_404(audit_agents(user), slug=slug)


@login_required
def assessment_results(request, slug: str):
    agent = export_agent_for(request.user, slug)
    document = oscal.assessment_results_export(actor=request.user, agent=agent)
    response = HttpResponse(json.dumps(document, indent=2, ensure_ascii=False),
                            content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="{agent.slug}-oscal-assessment-results.json"')
    return response
