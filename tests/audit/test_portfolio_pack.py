"""A portfolio pack reads its agents in chunks, each section of a chunk in one query: the files
it writes for an agent are the agent pack's own, less the record files that list nothing, and
the number of queries does not grow with the number of agents."""

import io
import json
import zipfile

import pytest

from almportal.audit import pack as packs
from almportal.audit.models import ExportRecord, LedgerEntry
from almportal.audit.registry import Section
from almportal.audit.sections import all_pack_sections
from almportal.audit.verify import verify_pack
from almportal.inventory.models import Agent

from ..factories import make_agent, make_prompt

pytestmark = pytest.mark.django_db


def portfolio(exporter, agents=None) -> zipfile.ZipFile:
    export = ExportRecord(kind="portfolio_pack", filters={}, created_by=exporter)
    built = packs.build_portfolio_pack(agents=agents or Agent.objects.all(),
                                       history=LedgerEntry.objects.order_by("seq"),
                                       start=None, end=None, export=export)
    return zipfile.ZipFile(io.BytesIO(built.read()))


def test_each_bulk_section_writes_what_the_agent_pack_writes(released_agent, owner):
    other = make_agent(owner, name="Second assistant")
    make_prompt(other, text="Another prompt.")
    agents = [released_agent, other]
    bulk_sections = [s for s in all_pack_sections() if s.bulk is not None]
    assert {"agent", "components", "releases", "retention"} <= {s.name for s in bulk_sections}
    for section in bulk_sections:
        in_bulk = section.bulk(agents)
        for agent in agents:
            alone = [f for f in section.fn(agent) if not f.holds_no_records]
            assert [f for f in in_bulk.get(agent.pk, []) if not f.holds_no_records] == alone, \
                section.name


def test_the_portfolio_leaves_out_empty_record_files_and_verifies(released_agent, exporter):
    archive = portfolio(exporter)
    folder = f"agents/{released_agent.slug}/"
    names = [n for n in archive.namelist() if n.startswith(folder)]
    assert f"{folder}agent/agent.json" in names
    assert f"{folder}releases/release-1.json" in names
    assert f"{folder}retention/retention-holds.json" not in names  # no holds: no file
    listed = json.loads(archive.read("agents.json"))
    entry = next(a for a in listed if a["slug"] == released_agent.slug)
    assert sorted(f for s in entry["sections"] for f in s["files"]) == sorted(names)
    top = [s["name"] for s in json.loads(archive.read("pack.json"))["sections"]]
    assert top == ["ledger", "index"]  # they describe the pack: written once, at its top
    archive.fp.seek(0)
    assert verify_pack(archive.fp).ok


def test_an_edited_agent_file_in_a_portfolio_is_named(released_agent, exporter):
    from .test_signing_and_packs import _set, forge

    archive = portfolio(exporter)
    archive.fp.seek(0)
    path = f"agents/{released_agent.slug}/agent/agent.json"
    result = verify_pack(io.BytesIO(forge(archive.fp.read(), path,
                                          _set("purpose", "Something else"))))
    assert any(p.startswith(f"{path}: inventory.agent") for p in result.problems), \
        result.problems


def test_bulk_sections_are_asked_once_per_chunk_and_never_per_agent(released_agent, exporter,
                                                                   owner, monkeypatch):
    for n in range(6):
        make_agent(owner, name=f"Fleet agent {n}")
    calls = {"bulk": 0, "alone": 0}

    def counted(section: Section) -> Section:
        def bulk(agents):
            calls["bulk"] += 1
            return section.bulk(agents)

        def alone(agent):
            calls["alone"] += 1
            return section.fn(agent)
        return Section(section.name, alone, section.models, section.order, bulk=bulk)

    sections = [s for s in all_pack_sections() if s.bulk is not None]
    monkeypatch.setattr(packs, "all_pack_sections", lambda: [counted(s) for s in sections])
    monkeypatch.setattr(packs, "PORTFOLIO_CHUNK", 3)
    portfolio(exporter)
    assert Agent.objects.count() == 7
    assert calls == {"bulk": 3 * len(sections), "alone": 0}  # chunks of 3, 3 and 1


def test_on_the_demo_portfolio_every_bulk_form_matches_its_agent_form():
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    agents = list(Agent.objects.order_by("slug"))
    bulk_sections = [s for s in all_pack_sections() if s.bulk is not None]
    assert {"operations", "incidents", "decommissioning", "oversight",
            "event-log"} <= {s.name for s in bulk_sections}
    for section in bulk_sections:
        in_bulk = section.bulk(agents)
        for agent in agents:
            alone = [f for f in section.fn(agent) if not f.holds_no_records]
            assert [f for f in in_bulk.get(agent.pk, []) if not f.holds_no_records] == alone, \
                (section.name, agent.slug)
