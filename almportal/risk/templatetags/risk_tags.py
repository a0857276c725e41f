from django import template

from ...core.lists import Shortlist
from ...inventory.choices import CLOSED_STAGES, RiskTier
from .. import rules, selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def risk_panel(context, agent) -> dict:
    """What the agent page's risk panel shows this user."""
    request = context.get("request")
    user = getattr(request, "user", None)
    status = selectors.assessment_status(agent)
    return {
        "status": status,
        "may_assess": user is not None and agent.stage not in CLOSED_STAGES
        and rules.may_draft(user, agent),
        "may_complete": user is not None and rules.may_complete(user, agent),
    }


@register.simple_tag
def pending_risk_work(user) -> dict:
    """The risk part of a user's pending work: stale or missing assessments of agents they
    may change, and (for assessors) drafts waiting to be completed."""
    return {
        "attention": selectors.assessments_needing_attention(user),
        "drafts": (Shortlist.of(selectors.drafts_awaiting_completion(user))
                   if rules.is_assessor(user) else []),
    }


@register.filter
def tier_label(value: str) -> str:
    return RiskTier(value).label if value in RiskTier.values else (value or "—")


@register.filter
def join_if_list(value) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
