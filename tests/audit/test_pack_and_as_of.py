import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.audit.models import ExportRecord, LedgerEntry, PackJob, PackState
from almportal.audit.packjobs import pack_job_build
from almportal.audit.services import ledger_catch_up
from almportal.audit.verify import verify_pack
from almportal.inventory import services as inventory

from ..factories import make_prompt

pytestmark = pytest.mark.django_db


def pack_of(client, url: str) -> bytes:
    """Request the pack, build it as the worker does, and download it."""
    queued = client.post(url)
    assert queued.status_code == 302, queued.status_code
    job = PackJob.objects.latest("pk")
    assert queued.url == job.get_absolute_url() and job.state == PackState.QUEUED
    pack_job_build(job.pk)
    response = client.get(f"{job.get_absolute_url()}download/")
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def test_the_pack_opens_and_its_manifest_matches(released_agent, client, exporter):
    client.force_login(exporter)
    body = pack_of(client, f"/audit/agents/{released_agent.slug}/evidence-pack.zip")
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = set(archive.namelist())
    assert {"dossier.html", "agent/agent.json", "components/prompts.json", "grants/grants.json",
            "releases/release-1.json", "releases/release-1-manifest.json", "history.jsonl",
            "pack.json", "MANIFEST.sha256"} <= names
    for line in archive.read("MANIFEST.sha256").decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    manifest = archive.read("releases/release-1-manifest.json")
    assert hashlib.sha256(manifest).hexdigest() == released_agent.releases.get().manifest_hash
    assert released_agent.name.encode() in archive.read("dossier.html")
    assert verify_pack(io.BytesIO(body)).ok


def test_a_changed_file_in_the_pack_is_detected(released_agent, client, exporter):
    client.force_login(exporter)
    body = pack_of(client, f"/audit/agents/{released_agent.slug}/evidence-pack.zip")
    original = zipfile.ZipFile(io.BytesIO(body))
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as out:
        for name in original.namelist():
            data = original.read(name)
            if name == "agent/agent.json":
                data = data.replace(b"Internal FAQ", b"Harmless FAQ")
            out.writestr(name, data)
    result = verify_pack(io.BytesIO(changed.getvalue()))
    assert not result.ok
    assert result.problems == ["agent/agent.json: changed (its SHA-256 differs from the MANIFEST)"]


def test_the_pack_download_is_recorded(released_agent, client, exporter, ledgered):
    client.force_login(exporter)
    with ledgered():
        pack_of(client, f"/audit/agents/{released_agent.slug}/evidence-pack.zip")
    record = ExportRecord.objects.get()
    assert (record.kind, record.agent, record.created_by) == ("agent_pack", released_agent,
                                                              exporter)
    assert LedgerEntry.objects.filter(object_model="audit.exportrecord",
                                      actor=exporter).exists()


def test_the_portfolio_pack_holds_every_agent(released_agent, client, exporter):
    client.force_login(exporter)
    body = pack_of(client, "/audit/evidence-pack.zip")
    archive = zipfile.ZipFile(io.BytesIO(body))
    index = json.loads(archive.read("agents.json"))
    assert released_agent.slug in [a["slug"] for a in index]
    assert verify_pack(io.BytesIO(body)).ok


def test_packs_are_refused_without_the_permission(released_agent, client, owner, security):
    for user in (owner, security):
        client.force_login(user)
        assert client.post(f"/audit/agents/{released_agent.slug}/evidence-pack.zip"
                           ).status_code == 403
        assert client.post("/audit/evidence-pack.zip").status_code == 403
    assert not ExportRecord.objects.exists() and not PackJob.objects.exists()


def test_as_of_shows_the_values_an_agent_had_then(released_agent, client, auditor):
    agent = released_agent
    before = timezone.now()
    inventory.agent_update(actor=agent.business_owner, agent=agent,
                           data={"name": "Renamed assistant", "sponsor": "CFO"})
    make_prompt(agent, text="A second version of the system prompt.")
    client.force_login(auditor)
    at = before.strftime("%Y-%m-%dT%H:%M:%S.%f")
    then = client.get(f"/audit/agents/{agent.slug}/as-of/", {"at": at}).content.decode()
    now = client.get(f"/audit/agents/{agent.slug}/as-of/",
                     {"at": (timezone.now() + timedelta(seconds=1)).strftime(
                         "%Y-%m-%dT%H:%M:%S")}).content.decode()
    assert "<h3>Internal FAQ assistant</h3>" in then and "<h3>Renamed assistant</h3>" not in then
    assert "<h3>Renamed assistant</h3>" in now and "CFO" in now
    assert "system v2" not in then and "system v2" in now
    assert "Release #1" in then


def test_as_of_before_the_agent_existed(released_agent, client, auditor):
    client.force_login(auditor)
    page = client.get(f"/audit/agents/{released_agent.slug}/as-of/", {"at": "2001-01-01T00:00"})
    assert b"had not been recorded yet" in page.content


def test_as_of_selector_against_known_edits(released_agent):
    from almportal.audit.selectors import agent_as_of

    agent = released_agent
    first = timezone.now()
    inventory.agent_update(actor=agent.business_owner, agent=agent, data={"sponsor": "COO"})
    second = timezone.now()
    inventory.agent_update(actor=agent.business_owner, agent=agent, data={"sponsor": "CEO"})

    def sponsor(at):
        record = agent_as_of(agent, at).sections[0].items[0]
        return dict(record.fields)["sponsor"]

    assert (sponsor(first), sponsor(second), sponsor(timezone.now())) == ("—", "COO", "CEO")


def test_history_pages_need_the_audit_permission(released_agent, client, owner, compliance,
                                                 auditor, admin_user):
    ledger_catch_up()
    client.force_login(owner)
    for url in ("/audit/", "/audit/history/", "/audit/verify/",
                f"/audit/agents/{released_agent.slug}/as-of/"):
        assert client.get(url).status_code == 403
    for user in (compliance, auditor, admin_user):
        client.force_login(user)
        page = client.get("/audit/history/", {"agent": released_agent.slug,
                                               "action": "changed"})
        assert page.status_code == 200
        assert b"Fits the roadmap" in page.content


def test_history_shows_field_level_diffs(released_agent, client, auditor):
    inventory.agent_update(actor=released_agent.business_owner, agent=released_agent,
                           data={"sponsor": "CFO"}, reason="Sponsor named")
    ledger_catch_up()
    client.force_login(auditor)
    page = client.get("/audit/history/", {"record_type": "inventory.agent"}).content.decode()
    assert "Sponsor named" in page and '<th scope="row">Sponsor</th>' in page and "CFO" in page
