"""axe-core, served from the repository, finds no serious or critical violation on the main
pages of each role."""

import pytest
from django.core.management import call_command

from almportal.inventory.models import Agent

from .checks import serious_violations
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def pages_for(username: str) -> list[str]:
    agent = Agent.objects.filter(stage="in_development").first()
    live = Agent.objects.filter(stage="live").first() or agent
    common = ["/", "/agents/", agent.get_absolute_url(), live.get_absolute_url(), "/portfolio/",
              "/account/tokens/"]
    return {
        "owner": common + ["/agents/new/", f"{agent.get_absolute_url()}edit/"],
        "compliance": common + ["/agents/intake-queue/", "/risk/", "/risk/coverage/"],
        "auditor": common + ["/audit/", "/audit/history/", "/audit/verify/"],
        "admin": common,
    }[username]


@pytest.mark.parametrize("username", ["owner", "compliance", "auditor", "admin"])
def test_main_pages_have_no_serious_violation(page, username):
    call_command("seed_demo", verbosity=0)
    login(page, username, f"demo-{username}")
    found = {}
    for url in pages_for(username):
        page.goto(url)
        problems = serious_violations(page)
        if problems:
            found[url] = problems
    assert not found, found
