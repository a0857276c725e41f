"""One source of what waits for a user: the home page's counts are My work's, kind by kind,
for every role, and every item links to a page where it is done (the demo users' in
test_demo_work_counts.py)."""

import re

import pytest
from django.urls import reverse

from almportal.accounts.models import User

from .test_home import _estate

pytestmark = pytest.mark.django_db
HOME, MY_WORK = reverse("portal:home"), reverse("reviews:my-work")


def home_counts(html: str) -> dict[str, int]:
    start = html.index('data-section="waiting"')
    card = html[start:html.index("</section>", start)]
    return {key: int(n) for key, n in re.findall(r'data-work="([\w-]+)">(\d+)<', card)}


def my_work(html: str) -> dict[str, tuple[int, list[str]]]:
    """{kind: (the count the heading gives, the links of the items listed)}."""
    found = {}
    for key, body in re.findall(r'<section class="card" aria-labelledby="work-([\w-]+)">'
                                r"(.*?)</section>", html, re.S):
        total = int(re.search(rf'data-work="{key}">(\d+)<', body).group(1))
        items = re.findall(r"<li[^>]*>(.*?)</li>", body, re.S)
        found[key] = (total, [re.search(r'href="([^"]+)"', item).group(1) for item in items])
    return found


def assert_one_source(client, user: User) -> dict[str, int]:
    client.force_login(user)
    counts = home_counts(client.get(HOME).content.decode())
    listed = my_work(client.get(MY_WORK).content.decode())
    assert counts == {key: total for key, (total, _) in listed.items()}
    for key, (total, links) in listed.items():
        assert len(links) == total, key
        assert client.get(links[0]).status_code == 200, (key, links[0])
    return counts


@pytest.mark.parametrize("persona", ["owner", "other_owner", "compliance", "security",
                                     "auditor", "admin_user"])
def test_a_factory_estates_home_counts_are_the_work(client, owner, other_owner, persona,
                                                   request):
    _estate(owner, other_owner)
    counts = assert_one_source(client, request.getfixturevalue(persona))
    if persona in ("owner", "compliance"):
        assert counts
