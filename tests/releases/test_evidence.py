"""Evidence files: judged by content, not extension; size-limited; SHA-256 stored; served only
to those who may see the release."""

import hashlib
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from almportal.releases.models import Evidence

from ..conftest import client_for
from .helpers import high_release

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
ELF = b"\x7fELF\x02\x01\x01" + bytes(64)
EXE = b"MZ\x90\x00\x03" + bytes(64)
RANDOM = random.Random(4).randbytes(4096)


@pytest.fixture
def item(owner, compliance, delegate):
    return high_release(owner, compliance, delegate).checklist_items.first()


def upload(client, item, name, content, **extra):
    data = {"kind": "file", "file": SimpleUploadedFile(name, content), "effective_date":
            "2026-01-15", **extra}
    return client.post(f"{item.get_absolute_url()}evidence/", data)


@pytest.mark.parametrize("name, content, message", [
    ("report.pdf", PNG, "named .pdf but its content is image/png"),
    ("report.pdf", ELF, "named .pdf but its content is application/x-executable"),
    ("report.pdf", EXE, "named .pdf but its content is application/x-msdownload"),
    ("report.pdf", RANDOM, "content is not PDF, PNG, JPEG"),
    ("tool.exe", EXE, "Files named .exe are not accepted"),
])
def test_a_refused_type_gets_a_clear_error_and_nothing_is_stored(client, owner, item, name,
                                                                 content, message):
    client_for(client, owner)
    response = upload(client, item, name, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Evidence.objects.exists()


def test_an_oversized_file_is_refused(client, owner, item, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    client_for(client, owner)
    response = upload(client, item, "big.pdf", PDF + bytes(2048))
    assert response.status_code == 400
    assert "The file is 2 KiB; evidence files may be at most 1 KiB." in \
        response.content.decode()
    assert not Evidence.objects.exists()


def test_a_valid_pdf_is_stored_with_its_hash_and_served_to_who_may_see_it(
        client, owner, compliance, other_owner, item):
    client_for(client, owner)
    response = upload(client, item, "pen-test.pdf", PDF)
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (evidence.size, evidence.content_type) == (len(PDF), "application/pdf")
    assert str(evidence.effective_date) == "2026-01-15"
    assert "pen-test" not in evidence.file.name  # stored under a random name
    for user in (owner, compliance):
        client_for(client, user)
        response = client.get(f"{evidence.get_download_url()}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
    client_for(client, other_owner)
    assert client.get(f"{evidence.get_download_url()}").status_code == 404


def test_text_evidence_is_accepted_when_it_is_utf8(client, owner, item):
    client_for(client, owner)
    assert upload(client, item, "results.csv", "metric,value\nök,1\n".encode()).status_code == 302
    assert Evidence.objects.get().content_type == "text/csv"


def test_the_api_takes_a_multipart_file_and_refuses_a_disguised_one(client, owner, item):
    client_for(client, owner)
    url = f"/api/v1/checklist-items/{item.pk}/evidence/"
    response = client.post(url, {"kind": "file", "file": SimpleUploadedFile("x.pdf", PNG)})
    assert response.status_code == 400
    assert "its content is image/png" in response.json()["errors"]["file"][0]
    response = client.post(url, {"kind": "file", "file": SimpleUploadedFile("x.pdf", PDF)})
    assert response.status_code == 201
    assert response.json()["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_a_future_effective_date_is_refused(client, owner, item):
    client_for(client, owner)
    response = upload(client, item, "a.pdf", PDF, effective_date="2999-01-01")
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()


def test_evidence_is_added_only_by_those_who_work_on_the_item(client, auditor, other_owner, item):
    client_for(client, auditor)
    assert upload(client, item, "a.pdf", PDF).status_code == 403
    client_for(client, other_owner)
    assert upload(client, item, "a.pdf", PDF).status_code == 404
    assert not Evidence.objects.exists()
