"""Every link a signed-in user can reach, followed with Django's test client (no browser): from
the start pages, every same-origin `<a href>` of every HTML page (relative links such as a
list's `?sort=` and `?after=` included), and where each redirect leads. GET only, so nothing
changes; files and the API's JSON are fetched but not read for links.

There is no cap: the walk ends when no unseen link is left. In Django's admin only (see
`OnceInTheAdmin`), each sort and filter link is followed alone, once per list. `LIMIT` only
stops a walk that would never end (a link that makes a new link on every page), and reaching
it is a failure."""

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client

ORIGIN = "http://testserver"
LIMIT = 20_000
# Fetching these would end the session the walk runs in.
LOGOUT = re.compile(r"^(/admin)?/logout/")
# The answers a link may give: the page, a redirect (followed in turn) or not modified.
FINE = {200, 301, 302, 304}


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.hrefs.append(href)


def same_origin(base: str, href: str) -> str | None:
    """`href` as found on the page at `base`, as a path and query on this site (or None)."""
    absolute = urldefrag(urljoin(ORIGIN + base, href.strip()))[0]
    parts = urlsplit(absolute)
    if f"{parts.scheme}://{parts.netloc}" != ORIGIN or not parts.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def links_on(base: str, html: str) -> list[str]:
    parser = _Anchors()
    parser.feed(html)
    return [url for href in parser.hrefs if (url := same_origin(base, href)) is not None]


@dataclass
class Walk:
    pages: list[str] = field(default_factory=list)  # the HTML pages that answered 200
    statuses: dict[str, int] = field(default_factory=dict)  # every link followed
    found_on: dict[str, str] = field(default_factory=dict)  # where each link was first seen
    problems: dict[str, str] = field(default_factory=dict)

    def fail(self, url: str, problem: str) -> None:
        self.problems[url] = f"{problem} (linked from {self.found_on.get(url, 'the start')})"


def walk(client: Client, start: list[str], *, follow=lambda url: True,
         check=lambda url, html: None) -> Walk:
    """Breadth first from `start`, through every link `follow(url)` allows (logging out never).
    A 500, an unexpected status or what `check(url, html)` says of a page is a problem; the
    walk goes on to find all of them."""
    done = Walk()
    queue, seen = deque(start), set(start)

    def add(url: str | None, on: str) -> None:
        if url is None or url in seen or LOGOUT.match(url) or not follow(url):
            return
        seen.add(url)
        done.found_on[url] = on
        queue.append(url)

    while queue:
        if len(done.statuses) >= LIMIT:
            done.fail(queue[0], f"the walk passed {LIMIT} links: a link seems to make new "
                                "links without end")
            break
        url = queue.popleft()
        response = client.get(url)
        done.statuses[url] = status = response.status_code
        kind = response.get("Content-Type", "")
        if status not in FINE:
            done.fail(url, f"answers {status}")
        if status in (301, 302):
            add(same_origin(url, response["Location"]), url)
        elif status == 200 and kind.startswith("text/html"):
            done.pages.append(url)
            html = response.content.decode()
            if problem := check(url, html):
                done.fail(url, problem)
            for link in links_on(url, html):
                add(link, url)
        if response.streaming:
            close_stream(response)
    return done


def close_stream(response) -> None:
    """Close a file's unread stream as the test client does once it is read: closing fires
    request_finished, which must not close the test's database connection."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


# Drawn by others: Django's admin (branded in its own layout) and the API docs (Swagger UI).
OWN_LAYOUT = ("/admin/", "/api/docs/")


def in_the_layout(url: str, html: str) -> str | None:
    """Every portal page is drawn in the portal's layout."""
    if url.startswith(OWN_LAYOUT) or 'data-layout="portal"' in html:
        return None
    return "drawn without the portal's layout"


# Admin links that open a page the walk opens without them: the list's filters carried along.
SAME_ADMIN_PAGE = {"_changelist_filters", "_popup", "_to_field"}


class OnceInTheAdmin:
    """Every page of the admin, and each of its sort, filter and search links alone, once per
    list: its links combine every filter with every other, far past what any person clicks."""

    def __init__(self) -> None:
        self.kinds: set[tuple[str, frozenset[str]]] = set()

    def __call__(self, url: str) -> bool:
        parts = urlsplit(url)
        keys = frozenset(key for key, _ in parse_qsl(parts.query, keep_blank_values=True))
        if not parts.path.startswith("/admin/") or keys <= {"p"}:
            return True
        if keys & SAME_ADMIN_PAGE or len(keys - {"p"}) > 1:
            return False
        kind = (parts.path, keys)
        if kind in self.kinds:
            return False
        self.kinds.add(kind)
        return True
