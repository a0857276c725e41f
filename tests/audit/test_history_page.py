"""The history page pages by keyset on the sequence number: no OFFSET and no COUNT, so a page
deep in a large ledger costs what the first one does."""

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from almportal.accounts.roles import Role
from almportal.audit.models import LedgerEntry
from almportal.audit.selectors import ledger_record_types
from almportal.audit.services import ledger_append, ledger_catch_up
from almportal.audit.views import PAGE_SIZE as PAGE
from almportal.inventory import services as inventory
from almportal.inventory.choices import AutonomyLevel, DataClassification
from almportal.risk import services as risk
from almportal.risk.choices import Pillar
from almportal.risk.models import TierPolicy

from ..factories import make_prompt
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


# --- What people read: labels, never stored names or Python reprs ---------------------------

class _VisibleText(HTMLParser):
    """The text a reader sees: no tags, no attribute values (links and option values are
    the ledger's stored names on purpose)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(page) -> str:
    parser = _VisibleText()
    parser.feed(page.content.decode())
    return " ".join(parser.parts)


def stored_names() -> set[str]:
    """Choice codes of every choice table, and the names of the fields of every record type
    the ledger holds, where they are identifiers with "_" in them."""
    names = {str(value) for choices in (Pillar, Role) for value in choices.values}
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            names.add(f.name)
            names |= {str(value) for value, _ in f.flatchoices if isinstance(value, str)}
    names |= set(ledger_record_types())
    return {name for name in names if "_" in name or "." in name}


def _leaks(text: str) -> set[str]:
    words = set(re.findall(r"[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+", text))
    return words & stored_names()


@pytest.fixture
def varied_ledger(released_agent, owner, admin_user):
    """Entries of every shape: choices, lists of objects, a user, a long text, a policy."""
    inventory.agent_update(actor=owner, agent=released_agent, reason="More autonomy",
                           data={"autonomy_level": AutonomyLevel.WITHIN_LIMITS,
                                 "data_classification": DataClassification.RESTRICTED,
                                 "success_metrics": [{"name": "Resolved", "target": "40%"}],
                                 "tags": ["faq", "staff_help"]})
    make_prompt(released_agent, text="You answer staff questions. " * 10)
    inventory.agent_update(actor=owner, agent=released_agent, reason="Clearer purpose",
                           data={"purpose": "Answers staff questions about policies. " * 5})
    inventory.agent_update(actor=owner, agent=released_agent, reason="Clearer purpose",
                           data={"purpose": "Answers staff questions about HR policies. " * 5})
    policy = TierPolicy.objects.get(tier="high")
    policy.checklist_template = policy.checklist_template[:-1]
    risk.tier_policy_update(actor=admin_user, policy=policy, reason="One item fewer")
    ledger_catch_up()
    return released_agent


@pytest.mark.parametrize("query", [{}, {"record_type": "risk.tierpolicy"},
                                   {"record_type": "inventory.agent"},
                                   {"record_type": "accounts.user"}])
def test_the_history_shows_labels_not_stored_names(varied_ledger, client, auditor, query):
    client.force_login(auditor)
    page = client.get("/audit/history/", query)
    text = visible_text(page)
    assert page.context["rows"], query
    assert not _leaks(text), _leaks(text)
    assert "[{'" not in text and "{'" not in text and "[{&#x27;" not in page.content.decode()


def test_the_history_shows_each_change_in_place(varied_ledger, client, auditor):
    client.force_login(auditor)
    text = visible_text(client.get("/audit/history/", {"record_type": "inventory.agent"}))
    assert "Autonomy level" in text and "Acts within limits" in text
    assert "Resolved: 40%" in text  # a list of objects as chips
    diff = client.get("/audit/history/", {"record_type": "inventory.agent"}).content.decode()
    assert "about <ins>HR</ins> policies." in diff  # a long text as a word diff
    policies = visible_text(client.get("/audit/history/", {"record_type": "risk.tierpolicy"}))
    assert "Checklist template" in policies or "Readiness checklist" in policies


def test_the_history_query_count_does_not_grow_with_rows(released_agent, client, auditor):
    client.force_login(auditor)
    ledger_catch_up()
    client.get("/audit/history/")
    with CaptureQueriesContext(connection) as few:
        client.get("/audit/history/", {"agent": released_agent.slug})
    shown = len(client.get("/audit/history/", {"agent": released_agent.slug}).context["rows"])
    ledger_append(history_copies(released_agent.history.first(), 60, name="Agent v{n}"))
    with CaptureQueriesContext(connection) as many:
        page = client.get("/audit/history/", {"agent": released_agent.slug})
    assert len(page.context["rows"]) == PAGE > shown
    assert len(many) == len(few)


def test_the_history_escapes_what_people_typed(released_agent, client, auditor):
    """Names, lists and long texts reach the page as text, never as markup."""
    markup = '<img src=x onerror="alert(1)">'
    inventory.agent_update(actor=released_agent.business_owner, agent=released_agent, data={
        "business_unit": markup, "tags": [markup],
        "purpose": f"{released_agent.purpose} {markup} " + "and more words " * 12},
        reason=markup)
    ledger_catch_up()
    client.force_login(auditor)
    page = client.get("/audit/history/").content.decode()
    assert markup not in page
    assert page.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") >= 3
