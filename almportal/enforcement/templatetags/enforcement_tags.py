from django import template

from .. import selectors

register = template.Library()


@register.simple_tag
def gateway_rows(agent) -> list[selectors.GatewayRow]:
    """Each gateway that reported for the agent, for the agent page's enforcement panel."""
    return selectors.gateway_rows(agent)
