import pytest

from almportal.core.errors import Conflict
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState

from ..factories import make_agent, make_release
from .helpers import FAQ_ANSWERS, SCORING_ANSWERS, assessed

pytestmark = pytest.mark.django_db


def test_an_unacceptable_agent_cannot_be_accepted(owner, compliance, admin_user):
    agent = make_agent(owner, Stage.PROPOSED)
    assessed(owner, compliance, agent=agent, answers=SCORING_ANSWERS)
    with pytest.raises(Conflict):
        inventory.agent_accept(actor=admin_user, agent=agent)
    agent.refresh_from_db()
    assert agent.stage == Stage.PROPOSED


def test_an_unacceptable_agent_cannot_be_released(owner, compliance):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    assessed(owner, compliance, agent=agent, answers=SCORING_ANSWERS)
    with pytest.raises(Conflict):
        release_services.release_submit(actor=owner, release=release)
    release.refresh_from_db()
    assert release.state == ReleaseState.DRAFT


def test_a_later_acceptable_assessment_lifts_the_block(owner, compliance, admin_user):
    agent = make_agent(owner, Stage.PROPOSED)
    assessed(owner, compliance, agent=agent, answers=SCORING_ANSWERS)
    assessed(owner, compliance, agent=agent, answers=FAQ_ANSWERS)
    inventory.agent_accept(actor=admin_user, agent=agent)
    agent.refresh_from_db()
    assert agent.stage == Stage.IN_DEVELOPMENT
