"""Evidence files through the API: a token holder downloads the file the page serves, with the
same lookup and the same answer."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from almportal.accounts.models import TokenScope
from almportal.releases import services
from almportal.releases.choices import EvidenceKind
from almportal.releases.models import Evidence

from ..api.test_token_scopes import client_with
from ..conftest import client_for
from .helpers import add_link, high_release

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def item(owner, compliance, delegate):
    return high_release(owner, compliance, delegate).checklist_items.first()


@pytest.fixture
def evidence(item, owner) -> Evidence:
    return services.evidence_add(actor=owner, item=item, kind=EvidenceKind.FILE,
                                 upload=SimpleUploadedFile("pen-test.pdf", PDF))


def url(evidence) -> str:
    return reverse("api-evidence-download", args=[evidence.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_token_holder_downloads_the_file(evidence, owner):
    response = client_with(owner, TokenScope.READ).get(url(evidence))
    assert response.status_code == 200
    assert body(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="pen-test.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_answers_as_the_page_does(client, evidence, compliance):
    client_for(client, compliance)
    page = client.get(evidence.get_download_url())
    api = client.get(url(evidence))
    assert (api.status_code, body(api)) == (page.status_code, body(page)) == (200, PDF)
    for header in ("Content-Type", "Content-Disposition", "Content-Security-Policy"):
        assert api[header] == page[header]


def test_someone_who_may_not_see_the_release_gets_404(evidence, other_owner):
    assert client_with(other_owner, TokenScope.READ).get(url(evidence)).status_code == 404


def test_link_evidence_and_unknown_ids_are_404(item, owner):
    link = add_link(item, owner)
    client = APIClient()
    client.force_authenticate(owner)
    assert client.get(url(link)).status_code == 404
    assert client.get(reverse("api-evidence-download", args=[10**9])).status_code == 404


def test_the_evidence_lists_its_api_download_and_its_page(client, evidence, item, owner):
    add_link(item, owner)
    client_for(client, owner)
    listed = client.get(reverse("checklist-item-detail", args=[item.pk])).json()["evidence"]
    shown = next(e for e in listed if e["id"] == evidence.pk)
    assert shown["download_url"] == url(evidence)
    assert shown["page_url"] == evidence.get_download_url()
    assert body(client.get(shown["download_url"])) == PDF
    link = next(e for e in listed if e["kind"] == "link")
    assert link["download_url"] is link["page_url"] is None
