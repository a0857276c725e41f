"""The sign-offs My work and the home page count are selected in the database
(reviews.selectors.releases_to_sign); the sign-off form and the reminders ask releases.rules
release by release. Through a release's whole sign-off, for every kind of person, the two
agree."""

import pytest

from almportal.accounts.roles import Role
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.releases import selectors as releases
from almportal.releases import services as release_services
from almportal.reviews.selectors import releases_to_sign

from ..factories import make_agent, make_release, make_user
from ..releases.helpers import high_release, sign
from ..risk.helpers import assessed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def people(owner, compliance, security):
    return {"owner": owner, "compliance": compliance, "security": security,
            "compliance2": make_user(Role.COMPLIANCE, username="cora"),
            "delegate": make_user(Role.BUSINESS_OWNER, username="dana"),
            "involved_security": make_user(Role.SECURITY, username="sec-delegate"),
            "former_delegate": make_user(Role.COMPLIANCE, username="former"),
            "author": make_user(Role.COMPLIANCE, username="author"),
            "admin": make_user(Role.ADMIN, username="root")}


@pytest.fixture
def estate(people):
    """A high-tier release (ordered: security, then compliance; the owner any time), a
    medium-tier one, one authored by a security reviewer, and an agent never assessed."""
    p = people
    inventory.agent_add_delegate(actor=p["owner"], agent=make_agent(p["owner"]), user=p["delegate"])
    high = high_release(p["owner"], p["compliance"], p["delegate"])
    inventory.agent_add_delegate(actor=p["owner"], agent=high.agent, user=p["involved_security"])
    low = medium(p)
    inventory.agent_add_delegate(actor=p["owner"], agent=low, user=p["former_delegate"])
    low_release = release_services.release_submit(actor=p["owner"], release=make_release(low))
    inventory.agent_remove_delegate(actor=p["owner"], agent=low, user=p["former_delegate"])
    authored = medium(p)
    inventory.agent_add_delegate(actor=p["owner"], agent=authored, user=p["author"])
    authored_release = release_services.release_submit(actor=p["owner"],
                                                       release=make_release(authored, p["author"]))
    inventory.agent_remove_delegate(actor=p["owner"], agent=authored, user=p["author"])
    unassessed = make_agent(p["owner"], Stage.IN_DEVELOPMENT)
    release_services.release_submit(actor=p["owner"], release=make_release(unassessed))
    return high, low_release, authored_release


def medium(people):
    """A medium-tier agent: the owner and a compliance officer sign, in any order."""
    return assessed(people["owner"], people["compliance"], stage=Stage.IN_DEVELOPMENT,
                    tier="medium", justification="Reads customer records").agent


def assert_agree(people) -> dict[str, set[int]]:
    found = {}
    for name, user in people.items():
        by_rule = {w.release.pk for w in releases.work_waiting_for(user).signoffs}
        assert set(releases_to_sign(user).values_list("pk", flat=True)) == by_rule, name
        found[name] = by_rule
    return found


def test_the_database_and_the_rule_agree_through_a_sign_off(people, estate):
    p, (high, low, authored) = people, estate
    before = assert_agree(p)
    assert high.pk in before["security"] and high.pk in before["owner"]
    assert high.pk not in before["compliance2"] and high.pk not in before["involved_security"]
    assert before["compliance"] and before["compliance2"]
    assert low.pk not in before["former_delegate"] and authored.pk in before["former_delegate"]
    assert authored.pk not in before["author"] and low.pk in before["author"]
    sign(high, p["security"], Role.SECURITY)
    after_security = assert_agree(p)
    assert high.pk in after_security["compliance2"]
    sign(high, p["compliance"], Role.COMPLIANCE)
    sign(high, p["owner"], Role.BUSINESS_OWNER)
    done = assert_agree(p)
    assert high.pk not in done["compliance"] and high.pk not in done["owner"]
    assert high.pk in done["compliance2"]
