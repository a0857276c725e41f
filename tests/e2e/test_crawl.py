"""Every page each demo user can reach, checked in the browser at a phone's width (390 px) and a
laptop's (1366 px): no horizontal overflow, no unreachable scrolling table, no serious or
critical axe violation. A long unbroken word in the purpose of the user's own agent (whose page
is found first after the home page) must wrap.

The pages are found without the browser: tests/links.py follows every link with Django's test
client, with no cap, and every link must answer with its page or a redirect (never a server
error, a refusal or a missing page), every portal page drawn in the portal's layout. The
browser then opens one page of each kind, the first found, and checks it at both widths; every kind
found is checked. A kind is the path with ids, hashes and agent slugs aside, and the query's
keys only; in Django's admin the path only, since its sort and filter links redraw the same
list. axe runs once per page structure (the same elements, classes and attributes: what its
serious rules read), since the users' pages differ mostly in their text; the width checks run
on every page opened. The crawls run on both cores with the other journeys."""

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from almportal.accounts.models import User
from almportal.inventory.models import Agent
from almportal.portal.demo import DEMO_USERS, demo_password

from ..links import OnceInTheAdmin, in_the_layout, walk
from .checks import problems_at
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.crawl, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1366)
LONG_WORD = "x" * 4000
# Not opened: the API docs (Swagger UI's own page, whose axe findings depend on how far it has
# drawn; test_content_security_policy.py covers it). Files and the API's JSON are not pages.
SKIP = re.compile(r"^/api/docs/")
# What axe's rules read of a page: each kind of element with its classes and which attributes
# it has (not their values, nor the text), and whether a table is large enough (three rows and
# three columns) for axe's rules on large tables.
STRUCTURE = """() => [...new Set([...document.body.querySelectorAll('*')].map(e =>
    e.tagName + '.' + e.getAttribute('class') + '|' + e.getAttribute('role') + '|'
    + e.getAttributeNames().sort().join(',')
    + '<' + (e.parentElement ? e.parentElement.tagName : '')
    + (e.tagName === 'TABLE' && e.rows.length >= 3 && e.rows[0].cells.length >= 3
       ? '|large' : '')))].sort().join('\\n')"""
axe_checked: set[str] = set()  # page structures axe passed, across this module's tests


@pytest.fixture
def _access_read_each_request():
    """Roles, permissions and tier policies from the cache, as in production: the crawl counts
    no queries, and it follows thousands of links."""


def shape(path_and_query: str, slugs: frozenset[str] = frozenset()) -> str:
    """The page's kind: ids, hashes and agent slugs aside, and the query's keys only (none in
    the admin)."""
    path, _, query = path_and_query.partition("?")
    keys = [] if path.startswith("/admin/") else sorted(
        part.split("=")[0] for part in query.split("&") if part)
    path = "/".join("S" if segment in slugs else segment for segment in path.split("/"))
    return re.sub(r"[0-9a-f]{12,}|\d+", "N", path) + "?" + "&".join(keys)


def pages_by_kind(username: str, start: list[str], follow) -> dict[str, str]:
    """Every page the user reaches through the links `follow` allows, by kind: the first found
    of each (breadth first). Every link followed must answer."""
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    slugs = frozenset(Agent.objects.values_list("slug", flat=True))
    done = walk(client, start, follow=follow, check=in_the_layout)
    print(f"{username}: {len(done.statuses)} links, {len(done.pages)} pages")
    assert not done.problems, "\n".join(f"{url}: {p}" for url, p in done.problems.items())
    kinds: dict[str, str] = {}
    for url in done.pages:
        if not SKIP.search(urlsplit(url).path):
            kinds.setdefault(shape(url, slugs), url)
    return kinds


def outside_the_admin(url: str) -> bool:
    return not url.startswith("/admin/")


def inside_the_admin() -> Callable[[str], bool]:
    once = OnceInTheAdmin()
    return lambda url: url.startswith("/admin/") and once(url)


def check(page, url: str) -> dict:
    """The page's problems at each width (axe once per structure)."""
    response = page.goto(url)
    if response is None or response.status >= 400:
        return {"status": response.status if response else None}
    structure = hashlib.sha256(page.evaluate(STRUCTURE).encode()).hexdigest()
    found = {}
    for width in WIDTHS:
        if problems := problems_at(page, width, axe=structure not in axe_checked):
            found[width] = problems
    if not any("axe" in p for p in found.values()):
        axe_checked.add(structure)
    return found


# The admin's Django admin pages apart from each demo user's portal pages: the longest crawl,
# first, so that the two cores share the work evenly.
CRAWLS = [pytest.param("admin", True, id="admin-django-admin")] + [
    pytest.param(name, False, id=name) for name, *_ in DEMO_USERS]


@pytest.mark.parametrize(("username", "django_admin"), CRAWLS)
def test_every_page_fits_and_passes_axe(page, username, django_admin):
    call_command("seed_demo", verbosity=0)
    owned = None if django_admin else Agent.objects.filter(
        business_owner__username=username).first()
    if owned is not None:
        Agent.objects.filter(pk=owned.pk).update(purpose=f"A purpose with {LONG_WORD} in it")
    if django_admin:
        kinds = pages_by_kind(username, ["/admin/"], inside_the_admin())
    else:
        kinds = pages_by_kind(username, ["/", *([owned.get_absolute_url()] if owned else [])],
                              outside_the_admin)
    login(page, username, demo_password(username))
    found, checked = defaultdict(dict), set()
    for kind, url in kinds.items():
        if problems := check(page, url):
            found[url] = problems
        checked.add(kind)
    print(f"{username}: {len(kinds)} kinds of page checked", *kinds.values(), sep="\n  ")
    assert checked == set(kinds) and len(kinds) > 5, kinds
    if django_admin:  # lists, change forms, history pages and past versions are all opened
        for part in ("/admin/inventory/agent/?", "/change/?", "/history/?", "/history/N/?"):
            assert any(kind.endswith(part) for kind in kinds), part
    else:
        assert "/?" in kinds  # the home page
    if owned is not None:
        assert owned.get_absolute_url() in kinds.values()  # the long word's page
    assert not found, "\n".join(f"{url}: {problems}" for url, problems in found.items())
