"""Every link each demo user can reach answers with its page or a redirect, never a server
error, a refusal or a missing page; every portal page is drawn in the portal's layout. The walk
(tests/links.py) follows every link, with no cap; the browser crawl (tests/e2e/test_crawl.py)
checks the look of the pages this walk finds."""

import pytest
from django.core.management import call_command
from django.test import Client

from almportal.accounts.models import User
from almportal.inventory.models import Agent
from almportal.portal.management.commands.seed_demo import DEMO_USERS

from ..links import OnceInTheAdmin, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)


def start_pages(username: str) -> list[str]:
    owned = Agent.objects.filter(business_owner__username=username).first()
    return ["/", *([owned.get_absolute_url()] if owned else [])]


@pytest.mark.parametrize("username", [user[0] for user in DEMO_USERS])
def test_every_link_answers(demo, username):
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    done = walk(client, start_pages(username), follow=OnceInTheAdmin(), check=in_the_layout)
    print(f"{username}: {len(done.statuses)} links, {len(done.pages)} pages")
    assert not done.problems, "\n".join(f"{url}: {p}" for url, p in done.problems.items())
    assert len(done.pages) > 10  # the walk really went somewhere


# Drawn by others: Django's admin (branded in its own layout) and the API docs (Swagger UI).
OWN_LAYOUT = ("/admin/", "/api/docs/")


def in_the_layout(url: str, html: str) -> str | None:
    if url.startswith(OWN_LAYOUT) or 'data-layout="portal"' in html:
        return None
    return "drawn without the portal's layout"
