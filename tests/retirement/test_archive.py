"""Done when 3: an auditor downloads the retired agent's archive and its hashes verify."""

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.audit.models import ExportRecord, RetentionHold
from almportal.audit.verify import verify_pack
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.retirement import services
from almportal.retirement.models import Archive
from almportal.retirement.selectors import archive_intact

from ..conftest import client_for

pytestmark = pytest.mark.django_db


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


@pytest.fixture
def archive(retired):
    """The archive the archiving task stored before retirement."""
    return Archive.objects.get(plan=retired, final=False)


def test_the_archive_is_stored_with_its_sha256_and_retention(retired, archive, compliance):
    archiving = retired.tasks.get(key="archive_evidence")
    assert archiving.proof["sha256"] == archive.sha256 and archiving.proof["file"] == \
        archive.file_name
    assert archive.retain_until == retired.retention_until
    assert archive.created_by == compliance and archive_intact(archive)
    export = ExportRecord.objects.get(pk=archiving.proof["export"])
    assert (export.kind, export.agent) == ("agent_pack", retired.agent)


def test_an_auditor_downloads_the_archive_and_its_hashes_verify(archive, client, auditor):
    body = download(client_for(client, auditor), f"/retirement/archives/{archive.pk}/download/")
    assert hashlib.sha256(body).hexdigest() == archive.sha256
    names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
    assert {"MANIFEST.sha256", "history.jsonl", "dossier.html", "agent/agent.json",
            "decommissioning/plans.json", "components/credentials.json"} <= names
    result = verify_pack(io.BytesIO(body))
    assert result.ok, result.problems


def test_the_api_serves_the_same_archive(archive, client, auditor):
    client = client_for(client, auditor)
    listed = client.get("/api/v1/archives/").json()["results"]
    final = Archive.objects.get(plan=archive.plan, final=True)
    assert [(a["sha256"], a["final"]) for a in listed] == [(final.sha256, True),
                                                          (archive.sha256, False)]
    response = client.get(f"/api/v1/archives/{archive.pk}/download/")
    assert response.status_code == 200
    assert response["X-Archive-SHA256"] == archive.sha256
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == archive.sha256


def test_a_modified_archive_is_detected(archive, client, auditor):
    body = download(client_for(client, auditor), f"/retirement/archives/{archive.pk}/download/")
    original = zipfile.ZipFile(io.BytesIO(body))
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as out:
        for name in original.namelist():
            data = original.read(name)
            if name == "decommissioning/plans.json":
                data = data.replace(b"Replaced by", b"Kept alive by")
            out.writestr(name, data)
    result = verify_pack(io.BytesIO(changed.getvalue()))
    assert not result.ok
    assert result.problems == ["decommissioning/plans.json: changed (its SHA-256 differs from "
                               "the MANIFEST)"]
    assert hashlib.sha256(changed.getvalue()).hexdigest() != archive.sha256


def test_a_changed_stored_file_no_longer_matches_its_hash(archive, settings):
    path = settings.MEDIA_ROOT / archive.path
    path.write_bytes(path.read_bytes() + b"tampered")
    assert not archive_intact(archive)


def test_auditors_compliance_admins_and_the_owner_may_download(archive, client, owner, compliance,
                                                               admin_user):
    for user in (owner, compliance, admin_user):
        client.force_login(user)
        assert client.get(f"/retirement/archives/{archive.pk}/download/").status_code == 200


def test_others_get_404(archive, client, other_owner, security):
    for user in (other_owner, security):
        client.force_login(user)
        assert client.get(f"/retirement/archives/{archive.pk}/download/").status_code == 404
        assert client.get(f"/api/v1/archives/{archive.pk}/download/").status_code == 404


def test_a_legal_hold_extends_the_archive(archive, compliance, owner, auditor):
    later = archive.retain_until + timedelta(days=365)
    for refused in (owner, auditor):
        with pytest.raises(NotPermitted):
            services.archive_hold(actor=refused, archive=archive, reason="x", legal_hold=True)
    with pytest.raises(DomainError) as shorter:
        services.archive_hold(actor=compliance, archive=archive, reason="Shorter",
                              retain_until=timezone.localdate() + timedelta(days=1))
    assert "retain_until" in shorter.value.errors
    services.archive_hold(actor=compliance, archive=archive, reason="Litigation 2026-17",
                          retain_until=later, legal_hold=True)
    archive.refresh_from_db()
    assert (archive.retain_until, archive.legal_hold) == (later, True)
    assert RetentionHold.objects.filter(agent=archive.agent, legal_hold=True).exists()
    assert archive.history.first().history_change_reason == "Legal hold placed: Litigation 2026-17"


def test_the_hold_page_and_api_refuse_auditors(archive, client, auditor, other_owner):
    client.force_login(auditor)
    assert client.post(f"/retirement/archives/{archive.pk}/hold/",
                       {"reason": "x", "legal_hold": "1"}).status_code == 403
    assert client.post(f"/api/v1/archives/{archive.pk}/hold/",
                       {"reason": "x", "legal_hold": True}).status_code == 403
    client.force_login(other_owner)
    assert client.post(f"/retirement/archives/{archive.pk}/hold/",
                       {"reason": "x", "legal_hold": "1"}).status_code == 404
    archive.refresh_from_db()
    assert not archive.legal_hold


def test_the_archive_is_never_deleted(archive):
    with pytest.raises(Conflict):
        archive.delete()
    assert Archive.objects.filter(pk=archive.pk).exists()
