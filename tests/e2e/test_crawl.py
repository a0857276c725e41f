"""Every demo user crawls every same-origin link reachable from the home page, breadth first and
GET only, and every page it reaches is checked at a phone's width (390 px) and a laptop's
(1366 px): no horizontal overflow, no unreachable scrolling table, no serious or critical axe
violation. A long unbroken word in the purpose of the user's own agent (whose page is visited
first after the home page) must wrap."""

import re
from collections import Counter, deque
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from almportal.inventory.models import Agent
from almportal.portal.demo import DEMO_USERS, demo_password

from .checks import problems_at
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1366)
PAGES_PER_USER = 40
PER_SHAPE = 1  # pages of one shape (ids and hashes aside) checked per user
LONG_WORD = "x" * 4000
# Not followed: leaving, files, the API's JSON, the API docs (Swagger UI's own page, whose axe
# findings depend on how far it has drawn; test_content_security_policy.py covers it) and, for
# everyone but admins, the Django admin.
SKIP = re.compile(r"/logout|download|export|^/api/|\.(csv|json|zip|pdf|txt)$", re.I)
LINKS = "els => els.map(a => a.href)"


def shape(path_and_query: str, slugs: frozenset[str] = frozenset()) -> str:
    """The page's kind: ids, hashes and agent slugs aside, and the query's keys only."""
    path, _, query = path_and_query.partition("?")
    keys = sorted(part.split("=")[0] for part in query.split("&") if part)
    path = "/".join("S" if segment in slugs else segment for segment in path.split("/"))
    return re.sub(r"[0-9a-f]{12,}|\d+", "N", path) + "?" + "&".join(keys)


class Crawl:
    """The breadth-first walk: which links to follow, in which order, and when to stop."""

    def __init__(self, origin: str, *, admin: bool, also: list[str]) -> None:
        self.origin, self.admin = origin, admin
        self.slugs = frozenset(Agent.objects.values_list("slug", flat=True))
        self.queue: deque[str] = deque(["/", *also])
        self.seen = set(self.queue)
        self.shapes = Counter(shape(url, self.slugs) for url in self.queue)

    def follow(self, hrefs: list[str]) -> None:
        for href in hrefs:
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                continue
            url = parts.path + (f"?{parts.query}" if parts.query else "")
            if url in self.seen or SKIP.search(parts.path) or (
                    parts.path.startswith("/admin/") and not self.admin):
                continue
            self.seen.add(url)
            kind = shape(url, self.slugs)
            if self.shapes[kind] < PER_SHAPE:
                self.shapes[kind] += 1
                self.queue.append(url)


def crawl(page, *, admin: bool, also: list[str]) -> tuple[list[str], dict]:
    """Breadth first from the home page (and `also`), each page checked at every width."""
    walk = Crawl(urlsplit(page.url)._replace(path="", query="", fragment="").geturl(),
                 admin=admin, also=also)
    visited, found = [], {}
    while walk.queue and len(visited) < PAGES_PER_USER:
        url = walk.queue.popleft()
        response = page.goto(url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        visited.append(url)
        if response.status >= 400:
            found[url] = {"status": response.status}
        walk.follow(page.eval_on_selector_all("a[href]:not([download])", LINKS))
        for width in WIDTHS:
            if problems := problems_at(page, width):
                found[f"{url} @ {width}px"] = problems
    return visited, found


@pytest.mark.parametrize("username", [name for name, *_ in DEMO_USERS])
def test_every_page_fits_and_passes_axe(page, username):
    call_command("seed_demo", verbosity=0)
    owned = Agent.objects.filter(business_owner__username=username).first()
    if owned is not None:
        Agent.objects.filter(pk=owned.pk).update(purpose=f"A purpose with {LONG_WORD} in it")
    login(page, username, demo_password(username))
    page.goto("/")
    visited, found = crawl(page, admin=username == "admin",
                           also=[owned.get_absolute_url()] if owned else [])
    print(f"{username}: {len(visited)} pages checked", *visited, sep="\n  ")
    assert len(visited) > 5, visited
    assert not found, "\n".join(f"{url}: {problems}" for url, problems in found.items())
