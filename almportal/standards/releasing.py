"""Every call the standards area makes into the releases area, in one place: an agent found
drifting from its approved manifest has its pending releases judged again, as any material
change does (releases.rules.release_standing decides; releases.services acts)."""

from ..accounts.models import User
from ..inventory.models import Agent
from ..releases import services as releases


def releases_recheck(*, actor: User, agent: Agent) -> None:
    releases.releases_check_assessment(actor=actor, agent=agent)
