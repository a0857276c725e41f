"""At a phone's width (390 px) and a laptop's (1366 px) no page is wider than the screen: long
words, hashes and tables wrap or scroll inside their own box, and a scrolling table can be
reached with the keyboard."""

import pytest
from django.core.management import call_command

from almportal.inventory.models import Agent
from almportal.releases.models import Release

from .checks import width_problems
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_WORD = "x" * 4000



def pages(username: str) -> list[str]:
    live = Agent.objects.filter(stage="live").first()
    release = Release.objects.filter(agent=live).order_by("-number").first()
    common = ["/", "/reviews/my-work/", "/agents/", live.get_absolute_url(), "/portfolio/",
              release.get_absolute_url(), Agent.objects.get(purpose__contains=LONG_WORD)
              .get_absolute_url()]
    return common + (["/audit/", "/audit/history/"] if username == "auditor" else [])


@pytest.mark.parametrize("width", [390, 1366])
@pytest.mark.parametrize("username", ["owner", "auditor"])
def test_no_page_is_wider_than_the_screen(page, username, width):
    call_command("seed_demo", verbosity=0)
    owner_agent = Agent.objects.filter(business_owner__username="owner").first()
    Agent.objects.filter(pk=owner_agent.pk).update(purpose=f"A purpose with {LONG_WORD} in it")
    page.set_viewport_size({"width": width, "height": 844})
    login(page, username, f"demo-{username}")
    wide = {}
    for url in pages(username):
        page.goto(url)
        if problems := width_problems(page):
            wide[url] = problems
    assert not wide, wide
