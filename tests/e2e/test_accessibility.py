"""axe-core, served from the repository, finds no serious or critical violation on the main
pages of each role."""

from pathlib import Path

import pytest
from django.core.management import call_command

from almportal.inventory.models import Agent

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.10.3.min.js"


AXE_URL = "/__axe__.js"


def load_axe(page) -> None:
    """Serve axe from the page's own origin: the Content-Security-Policy runs scripts from there
    only, and the check must see the pages under the policy they are served with."""
    page.route(f"**{AXE_URL}", lambda route: route.fulfill(
        path=str(AXE), content_type="application/javascript"))
    page.add_script_tag(url=AXE_URL)


def serious_violations(page) -> list[str]:
    load_axe(page)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.help + ' — '
                      + v.nodes.map(n => n.target.join(' ')).join(', '));
    }""")
    return result


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
