"""Evidence packs in the background: a request queues a job and answers at once; the worker
builds the pack into private storage with its progress; the requester alone downloads it, and
each download (not the request) is recorded in the ledger."""

import io
import zipfile

import pytest

from almportal.audit import packjobs
from almportal.audit.models import ExportKind, ExportRecord, PackJob, PackState
from almportal.audit.verify import verify_pack
from almportal.core.errors import DomainError

from ..factories import make_agent

pytestmark = pytest.mark.django_db


def start_portfolio(user) -> PackJob:
    return packjobs.pack_job_start(actor=user, kind=ExportKind.PORTFOLIO_PACK)


def test_a_request_queues_the_pack_and_records_no_download(released_agent, client, exporter):
    client.force_login(exporter)
    answer = client.post("/audit/evidence-pack.zip")
    job = PackJob.objects.get()
    assert answer.status_code == 302 and answer.url == job.get_absolute_url()
    assert job.state == PackState.QUEUED and job.requested_by == exporter
    assert not ExportRecord.objects.exists()
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'data-pack-state="queued"' in page and 'hx-trigger="every 1s"' in page


def test_the_worker_builds_it_with_progress_and_the_page_offers_the_download(
        released_agent, client, exporter, owner):
    for n in range(3):
        make_agent(owner, name=f"Portfolio agent {n}")
    job = start_portfolio(exporter)
    built = packjobs.pack_job_build(job.pk)
    assert built.state == PackState.READY and built.done == built.total == 4
    assert built.size > 0 and len(built.sha256) == 64
    stored = packjobs.packs_dir() / built.file_name
    assert stored.is_file() and stored.stat().st_size == built.size
    client.force_login(exporter)
    fragment = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-pack-state="ready"' in fragment and "hx-trigger" not in fragment
    assert "data-pack-download" in fragment and 'value="100"' in fragment
    assert not ExportRecord.objects.exists()
    body = b"".join(client.get(f"{job.get_absolute_url()}download/").streaming_content)
    assert verify_pack(io.BytesIO(body)).ok
    assert len(zipfile.ZipFile(io.BytesIO(body)).namelist()) > 4
    record = ExportRecord.objects.get()
    assert (record.kind, record.created_by, record.filters["pack_job"]) == (
        "portfolio_pack", exporter, job.pk)
    assert record.last_seq == job.last_seq


def test_building_twice_or_after_redelivery_builds_once(released_agent, exporter):
    job = start_portfolio(exporter)
    first = packjobs.pack_job_build(job.pk)
    assert first.state == PackState.READY
    assert packjobs.pack_job_build(job.pk) is None  # a redelivered task finds it ready
    assert len(list(packjobs.packs_dir().iterdir())) == 1


def test_a_job_being_built_is_not_built_again(released_agent, exporter):
    job = start_portfolio(exporter)
    PackJob.objects.filter(pk=job.pk).update(state=PackState.RUNNING,
                                             started_at=job.created_at)
    assert packjobs.pack_job_build(job.pk) is None


def test_only_the_requester_downloads_and_sees_the_job(released_agent, client, exporter,
                                                       compliance, owner):
    job = start_portfolio(exporter)
    packjobs.pack_job_build(job.pk)
    for other in (compliance, owner):  # compliance may export, but this pack is not theirs
        client.force_login(other)
        assert client.get(job.get_absolute_url()).status_code in (403, 404)
        assert client.get(f"{job.get_absolute_url()}download/").status_code in (403, 404)
    assert not ExportRecord.objects.exists()


def test_a_pack_not_ready_is_not_downloaded(released_agent, client, exporter):
    job = start_portfolio(exporter)
    client.force_login(exporter)
    answer = client.get(f"{job.get_absolute_url()}download/", follow=True)
    assert "not ready yet" in answer.content.decode()
    assert not ExportRecord.objects.exists()


def test_an_agent_pack_needs_an_agent_the_person_may_audit(exporter):
    with pytest.raises(DomainError):
        packjobs.pack_job_start(actor=exporter, kind=ExportKind.AGENT_PACK)
    with pytest.raises(DomainError):
        packjobs.pack_job_start(actor=exporter, kind="csv")
    assert not PackJob.objects.exists()


def test_the_agent_pack_page_offers_the_build(released_agent, client, exporter):
    client.force_login(exporter)
    page = client.get(f"/audit/agents/{released_agent.slug}/as-of/").content.decode()
    assert f"/audit/agents/{released_agent.slug}/evidence-pack.zip" in page


def test_the_sweep_finds_jobs_whose_task_was_lost(released_agent, exporter):
    from datetime import timedelta

    job = start_portfolio(exporter)
    assert packjobs.pack_jobs_waiting() == []
    PackJob.objects.filter(pk=job.pk).update(created_at=job.created_at - timedelta(minutes=5))
    assert packjobs.pack_jobs_waiting() == [job.pk]
    packjobs.pack_job_build(job.pk)
    assert packjobs.pack_jobs_waiting() == []


# --- The API ---------------------------------------------------------------------------------

def test_the_api_starts_polls_and_downloads_a_pack(released_agent, exporter, owner):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(exporter)
    started = api.post("/api/v1/audit/packs/", {"kind": "agent_pack",
                                                "agent": released_agent.slug}, format="json")
    assert started.status_code == 202, started.content
    job = started.json()
    assert (job["state"], job["download"]) == ("queued", None)
    assert not ExportRecord.objects.exists()
    packjobs.pack_job_build(job["id"])
    polled = api.get(f"/api/v1/audit/packs/{job['id']}/").json()
    assert polled["state"] == "ready" and polled["percent"] == 100
    answer = api.get(polled["download"])
    assert answer.status_code == 200
    assert verify_pack(io.BytesIO(b"".join(answer.streaming_content))).ok
    assert ExportRecord.objects.get().agent == released_agent
    other = APIClient()
    other.force_authenticate(owner)
    assert other.get(f"/api/v1/audit/packs/{job['id']}/").status_code in (403, 404)
    assert other.get(polled["download"]).status_code in (403, 404)


def test_the_api_refuses_bad_input_with_field_errors(released_agent, exporter):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(exporter)
    for body in ({"kind": "csv"}, {"kind": "agent_pack"}, {"kind": "agent_pack", "agent": "x"},
                 {"kind": "portfolio_pack", "surprise": 1}):
        answer = api.post("/api/v1/audit/packs/", body, format="json")
        assert answer.status_code in (400, 404), (body, answer.status_code)
    assert not PackJob.objects.exists()
    early = packjobs.pack_job_start(actor=exporter, kind=ExportKind.PORTFOLIO_PACK)
    assert api.get(f"/api/v1/audit/packs/{early.pk}/download/").status_code == 409
