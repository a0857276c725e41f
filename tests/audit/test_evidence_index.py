"""Every pack names each of the fourteen evidence items in its index, with the folders and
records it comes from, and says plainly which the portal does not record yet."""

import io
import json
import zipfile

import pytest

from almportal.audit.evidence import EVIDENCE_ITEMS
from almportal.audit.services import ledger_catch_up

from .test_pack_and_as_of import pack_of

pytestmark = pytest.mark.django_db

FOURTEEN = ["inventory", "risk_register", "impact_assessment", "technical_file",
            "release_signoffs", "event_logs", "overseers", "monitoring", "incidents",
            "kill_switch", "access_reviews", "decommission", "audits", "field_history"]


def test_the_list_is_the_fourteen_items():
    assert [item.key for item in EVIDENCE_ITEMS] == FOURTEEN


def test_the_agent_pack_index_names_every_item_with_its_sources(released_agent, client,
                                                               exporter):
    ledger_catch_up()
    client.force_login(exporter)
    body = pack_of(client, f"/audit/agents/{released_agent.slug}/evidence-pack.zip")
    archive = zipfile.ZipFile(io.BytesIO(body))
    index = {i["key"]: i for i in json.loads(archive.read("index/evidence-index.json"))}
    assert list(index) == FOURTEEN
    names = archive.namelist()
    for item in index.values():
        assert item["status"] == ("present" if item["sources"] else "missing")
        for source in item["sources"]:
            for folder in source["files"]:  # each source points at what the pack holds
                assert any(n == folder or n.startswith(folder) for n in names), folder
    assert index["inventory"]["sources"][0] == {"model": "inventory.agent",
                                                "files": ["agent/"]}
    assert index["field_history"]["sources"] == [{"model": "audit.ledgerentry",
                                                  "files": ["history.jsonl"]}]
    assert index["release_signoffs"]["status"] == "present"


def test_the_portfolio_pack_indexes_the_items_once_at_its_top(released_agent, client,
                                                             exporter):
    client.force_login(exporter)
    body = pack_of(client, "/audit/evidence-pack.zip")
    archive = zipfile.ZipFile(io.BytesIO(body))
    index = json.loads(archive.read("index/evidence-index.json"))
    assert [i["key"] for i in index] == FOURTEEN
    assert not any(n.startswith(f"agents/{released_agent.slug}/index/")
                   for n in archive.namelist())


def test_a_demo_agents_pack_holds_all_fourteen_items_each_named_in_its_index(client, auditor):
    from django.core.management import call_command

    from almportal.inventory.models import Agent

    call_command("seed_demo", stdout=io.StringIO())
    ledger_catch_up()
    client.force_login(auditor)
    counts = {}
    for agent in Agent.objects.all():
        body = pack_of(client, f"/audit/agents/{agent.slug}/evidence-pack.zip")
        archive = zipfile.ZipFile(io.BytesIO(body))
        index = json.loads(archive.read("index/evidence-index.json"))
        assert [item["key"] for item in index] == FOURTEEN
        assert {item["status"] for item in index} == {"present"}, agent.slug
        held = 0
        for item in index:
            files = [n for source in item["sources"] for folder in source["files"]
                     for n in archive.namelist() if n == folder or n.startswith(folder)]
            held += any(archive.read(n).strip() not in (b"[]", b"") for n in files)
        counts[agent.slug] = held
    richest = max(counts, key=counts.get)
    assert counts[richest] == len(FOURTEEN), counts  # one demo agent has records of each item
