"""Every link each demo user can reach answers without a server error, and every page is
drawn in the portal's layout."""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from almportal.accounts.models import User
from almportal.portal.management.commands.seed_demo import DEMO_USERS

pytestmark = pytest.mark.django_db

# Not pages of the portal: Django admin has its own layout, the API answers JSON, and
# logging out would end the crawl.
SKIP_PREFIXES = ("/admin/", "/api/", "/logout/", "/static/", "/media/")
MAX_PAGES = 600


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def internal_links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    links = []
    for href in parser.hrefs:
        href = urldefrag(href)[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue
        if not href.startswith(SKIP_PREFIXES):
            links.append(href)
    return links


def crawl(client: Client) -> dict[str, int]:
    seen, queue, statuses = {"/"}, deque(["/"]), {}
    while queue and len(statuses) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        statuses[url] = response.status_code
        content_type = response.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith("text/html"):
            html = response.content.decode()
            assert 'data-layout="portal"' in html, f"{url} is drawn without the portal's layout"
            for link in internal_links(html):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
    return statuses


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)


@pytest.mark.parametrize("username", [user[0] for user in DEMO_USERS])
def test_no_link_answers_a_server_error(demo, username):
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    statuses = crawl(client)
    errors = {url: code for url, code in statuses.items() if code >= 500}
    assert not errors, f"server errors for {username}: {errors}"
    assert len(statuses) > 10  # the crawl really went somewhere
