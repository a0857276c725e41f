from django import template

from .. import selectors

register = template.Library()


@register.simple_tag
def agent_review_status(agent) -> selectors.AgentReviewStatus:
    """For the agent page: the open review, whether it is overdue, and the last completed."""
    return selectors.agent_review_status(agent)
