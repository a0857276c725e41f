"""The history page pages by keyset on the sequence number: no OFFSET and no COUNT, so a page
deep in a large ledger costs what the first one does."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from almportal.audit.models import LedgerEntry
from almportal.audit.services import ledger_append, ledger_catch_up
from almportal.audit.views import PAGE_SIZE as PAGE

from .conftest import history_copies

pytestmark = pytest.mark.django_db


def _shown(page) -> list[int]:
    return [int(n) for n in re.findall(r'href="/audit/entries/(\d+)/"', page.content.decode())]


@pytest.fixture
def long_ledger(released_agent):
    ledger_catch_up()
    ledger_append(history_copies(released_agent.history.first(), 130, name="Agent v{n}"))
    return list(LedgerEntry.objects.order_by("-seq").values_list("seq", flat=True))


def test_it_walks_the_ledger_newest_first_and_back(long_ledger, client, auditor):
    client.force_login(auditor)
    first = client.get("/audit/history/")
    assert _shown(first) == long_ledger[:PAGE]
    assert f"before={long_ledger[PAGE - 1]}" in first.content.decode()
    second = client.get("/audit/history/", {"before": long_ledger[PAGE - 1]})
    assert _shown(second) == long_ledger[PAGE:2 * PAGE]
    back = client.get("/audit/history/", {"after": long_ledger[PAGE]})
    assert _shown(back) == long_ledger[:PAGE]
    assert "after=" not in back.content.decode()  # nothing newer than the newest page


def test_a_filter_is_kept_across_pages(long_ledger, client, auditor):
    client.force_login(auditor)
    page = client.get("/audit/history/", {"record_type": "inventory.agent"})
    older = re.search(r'href="\?([^"]*before=\d+)"', page.content.decode()).group(1)
    assert "record_type=inventory.agent" in older.replace("&amp;", "&")
    following = client.get("/audit/history/?" + older.replace("&amp;", "&"))
    agent_entries = set(LedgerEntry.objects.filter(object_model="inventory.agent")
                        .values_list("seq", flat=True))
    assert _shown(following) and set(_shown(following)) <= agent_entries


def test_a_cursor_that_is_not_a_number_shows_the_first_page(long_ledger, client, auditor):
    client.force_login(auditor)
    for cursor in ({"before": "x"}, {"after": "-3"}, {"before": "1e9"}):
        page = client.get("/audit/history/", cursor)
        assert page.status_code == 200
        assert _shown(page) == long_ledger[:PAGE]


def test_a_deep_page_runs_the_queries_of_the_first(long_ledger, client, auditor):
    client.force_login(auditor)
    client.get("/audit/history/")
    with CaptureQueriesContext(connection) as first:
        client.get("/audit/history/")
    with CaptureQueriesContext(connection) as deep:
        client.get("/audit/history/", {"before": long_ledger[100]})
    assert len(deep) == len(first)
    sql = " ".join(q["sql"] for q in deep.captured_queries
                   if "audit_ledgerentry" in q["sql"]).upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql


def test_owners_may_not_read_the_history(long_ledger, client, owner, other_owner):
    for user in (owner, other_owner):
        client.force_login(user)
        assert client.get("/audit/history/", {"before": long_ledger[10]}).status_code == 403
