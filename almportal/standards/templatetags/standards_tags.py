"""The agent page's panel of the standards area: open drift findings, what the live cards show
that is not acted on, and where the approved releases' cards are published."""

from django import template

from ...audit import signing
from .. import selectors

register = template.Library()


@register.simple_tag
def standards_panel(agent) -> dict:
    watches = list(agent.watched_cards.filter(active=True))
    return {"findings": list(selectors.open_findings(agent)), "watches": watches,
            "cosmetic": [d for w in watches for d in w.cosmetic],
            "published": list(selectors.published_releases(agent)),
            "signing": signing.is_configured(),
            "to_confirm": list(selectors.imports_to_confirm(agent))}
