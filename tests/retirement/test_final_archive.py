"""The retired agent's final archive is built by the worker after the retirement commits: it
holds the agent in its retired stage and the retirement sign-offs, verifies, is built once
however often the task is delivered, never when the retirement rolls back, and its download is
recorded as an export."""

import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from almportal.audit.models import ExportRecord, LedgerEntry
from almportal.audit.verify import verify_pack
from almportal.retirement import archiving, services
from almportal.retirement.models import Archive
from almportal.retirement.selectors import archive_intact, archive_open

from ..conftest import client_for

pytestmark = pytest.mark.django_db


def final_of(plan) -> Archive:
    return Archive.objects.get(plan=plan, final=True)


def read(archive: Archive, name: str):
    with archive_open(archive) as handle:
        return json.loads(zipfile.ZipFile(handle).read(name))


def stored_files() -> list[Path]:
    return sorted((Path(settings.MEDIA_ROOT) / archiving.ARCHIVE_DIR).rglob("*.zip"))


def test_it_is_built_after_retirement_by_the_retiring_user(retired, owner):
    final = final_of(retired)
    assert final.created_by == owner and final.retain_until == retired.retention_until
    assert archive_intact(final) and final.file_name.startswith("archive-")
    row = final.history.get()
    assert row.history_user == owner
    assert row.history_change_reason.startswith("Final archive after retirement: Replaced by")


def test_its_pack_verifies_with_the_retired_stage_and_the_sign_offs(retired):
    final = final_of(retired)
    with archive_open(final) as handle:
        result = verify_pack(handle)
    assert result.ok, result.problems
    assert read(final, "agent/agent.json")["stage"] == "retired"
    [plan] = read(final, "decommissioning/plans.json")
    assert plan["state"] == "retired"
    assert sorted(s["role"] for s in plan["signoffs"]) == ["compliance", "owner"]
    info = read(final, "pack.json")
    assert info["agent"]["slug"] == retired.agent.slug
    retire_entry = LedgerEntry.objects.filter(object_model="retirement.decommissionplan",
                                              object_pk=str(retired.pk)).order_by("seq").last()
    assert retire_entry.reason.startswith("Retired:")
    assert info["ledger"]["last_seq"] >= retire_entry.seq


def test_the_archive_made_before_retirement_lacks_them(retired):
    earlier = Archive.objects.get(plan=retired, final=False)
    assert read(earlier, "agent/agent.json")["stage"] == "sunsetting"
    assert read(earlier, "decommissioning/plans.json")[0]["signoffs"] == []


def test_nothing_is_built_when_the_retirement_rolls_back(signed, owner,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.plan_retire(actor=owner, plan=signed)
            raise RuntimeError("the request failed after retiring")
    assert callbacks == []
    assert not Archive.objects.filter(plan=signed, final=True).exists()
    signed.refresh_from_db()
    assert signed.state == "open"


def test_a_second_delivery_builds_nothing_more(retired):
    before, files = list(Archive.objects.values_list("pk", flat=True)), stored_files()
    result = archiving.final_archive_build_task.apply(args=[retired.pk, "again"], throw=True)
    assert result.get() == "nothing to do"
    assert list(Archive.objects.values_list("pk", flat=True)) == before
    assert stored_files() == files


def test_an_open_plan_gets_no_final_archive(signed):
    assert archiving.final_archive_build(signed.pk) is None
    assert not Archive.objects.filter(final=True).exists()


def test_retiring_answers_before_the_archive_is_built_and_the_page_says_so(signed, owner,
                                                                          client):
    services.plan_retire(actor=owner, plan=signed)  # its commit callbacks never run here
    assert not Archive.objects.filter(plan=signed, final=True).exists()
    page = client_for(client, owner).get(signed.get_absolute_url()).content.decode()
    assert 'data-final-archive="building"' in page
    agent_page = client.get(signed.agent.get_absolute_url()).content.decode()
    assert 'data-final-archive="building"' in agent_page
    api = client.get(f"/api/v1/decommission-plans/{signed.pk}/").json()
    assert api["final_archive"] == {"state": "building"}
    assert archiving.final_archives_missing() == [signed.pk]
    assert archiving.final_archives_sweep() == 1
    assert archiving.final_archives_missing() == []


def test_the_pages_and_api_offer_the_final_archive_first(retired, client, auditor):
    final = final_of(retired)
    client = client_for(client, auditor)
    page = client.get(retired.get_absolute_url()).content.decode()
    assert 'data-final-archive="building"' not in page
    section = page[page.index('id="archive-head"'):]  # the task's proof names the other too
    assert section.index(final.file_name) < section.index(
        Archive.objects.get(plan=retired, final=False).file_name)
    agent_page = client.get(retired.agent.get_absolute_url()).content.decode()
    assert 'data-final-archive="ready"' in agent_page and final.file_name in agent_page
    api = client.get(f"/api/v1/decommission-plans/{retired.pk}/").json()
    assert api["final_archive"] == {"state": "ready", "id": final.pk,
                                    "file_name": final.file_name, "sha256": final.sha256}


def test_its_download_is_recorded_as_an_export_in_the_ledger(retired, client, auditor,
                                                              ledgered):
    final = final_of(retired)
    with ledgered():
        response = client_for(client, auditor).get(f"/retirement/archives/{final.pk}/download/")
        assert response.status_code == 200
        b"".join(response.streaming_content)
    export = ExportRecord.objects.filter(kind="archive").get()
    assert export.filters == {"archive": final.pk, "sha256": final.sha256}
    assert LedgerEntry.objects.filter(object_model="audit.exportrecord",
                                      object_pk=str(export.pk)).exists()


def test_a_lost_broker_leaves_the_retirement_in_place(signed, owner, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(archiving.final_archive_build_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_retire(actor=owner, plan=signed)
    signed.refresh_from_db()
    assert signed.state == "retired"
    assert archiving.final_archives_missing() == [signed.pk]


def test_the_seeded_template_entered_the_ledger_during_migrate():
    seeded = LedgerEntry.objects.filter(object_model="retirement.decommissiontemplate")
    assert [e.reason for e in seeded] == ["Seeded decommission template"]
