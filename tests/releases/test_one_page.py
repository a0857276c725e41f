"""A release has one page, under its agent: manifest, changes since the release before, gate,
checklist, evaluations, sign-offs and actions. The addresses its pages had under /releases/<pk>/
answer 301 to it; nobody who may not see the release learns that it exists."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from almportal.accounts.roles import Role
from almportal.releases import services
from almportal.releases.choices import EvidenceKind

from ..conftest import client_for
from ..factories import make_release
from .helpers import add_link, high_release, passing_run, sign

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def release(owner, compliance, delegate):
    return high_release(owner, compliance, delegate)


def file_evidence(item, actor):
    return services.evidence_add(actor=actor, item=item, kind=EvidenceKind.FILE,
                                 upload=SimpleUploadedFile("report.pdf", PDF))


def moved(release):
    """(former address, where it is now) of every page a release had under /releases/."""
    item = release.checklist_items.first()
    evidence = file_evidence(item, release.agent.business_owner)
    return [(f"/releases/{release.pk}/", release.get_absolute_url()),
            (f"/releases/items/{item.pk}/", item.get_absolute_url()),
            (f"/releases/evidence/{evidence.pk}/download/", evidence.get_download_url())]


def test_the_page_lives_under_its_agent(release):
    assert release.get_absolute_url() == (f"/agents/{release.agent.slug}/releases/"
                                          f"{release.number}/")
    item = release.checklist_items.first()
    assert item.get_absolute_url() == f"{release.get_absolute_url()}items/{item.pk}/"


def test_every_former_address_answers_301_to_the_page(client, release, owner, security):
    addresses = moved(release)
    for user in (owner, security):
        client_for(client, user)
        for old, new in addresses:
            response = client.get(old)
            assert response.status_code == 301, old
            assert response["Location"] == new, old
            assert client.get(new).status_code == 200, new


def test_a_former_address_tells_nobody_else_that_the_release_exists(client, release,
                                                                   other_owner):
    addresses = moved(release)
    client_for(client, other_owner)
    for old, _new in addresses:
        assert client.get(old).status_code == 404, old
    client.logout()
    for old, _new in addresses:
        assert client.get(old).status_code == 302, old  # to sign in, not to the page


def sub_pages(release):
    item = release.checklist_items.first()
    evidence = file_evidence(item, release.agent.business_owner)
    slug = release.agent.slug
    return [release.get_absolute_url(), item.get_absolute_url(), evidence.get_download_url(),
            f"{release.get_absolute_url()}edit/", f"/agents/{slug}/releases/compare/",
            f"/agents/{slug}/releases/new/"]


def test_another_owner_finds_neither_the_page_nor_its_sub_pages(client, release, other_owner):
    urls = sub_pages(release)
    client_for(client, other_owner)
    for url in urls:
        assert client.get(url).status_code == 404, url
    for action in ("submit/", "sign/", "suites/new/", "runs/new/"):
        assert client.post(f"{release.get_absolute_url()}{action}").status_code == 404, action


def test_an_auditor_reads_the_page_but_gets_no_drafting_form(client, release, auditor):
    client_for(client, auditor)
    assert client.get(release.get_absolute_url()).status_code == 200
    assert client.get(f"/agents/{release.agent.slug}/releases/new/").status_code == 403


def test_an_item_of_one_release_is_not_found_under_another(client, release, owner):
    other = make_release(release.agent)
    item = release.checklist_items.first()
    client_for(client, owner)
    assert client.get(f"{other.get_absolute_url()}items/{item.pk}/").status_code == 404


def test_the_page_shows_all_there_is_to_know(client, release, owner, security):
    newer = make_release(release.agent, label="2.0")
    client_for(client, security)
    page = client.get(release.get_absolute_url()).content.decode()
    for part in ('id="summary-head"', "data-condition=", 'id="checklist-head"',
                 'id="evals-head"', 'id="signoffs-head"', 'id="components-head"',
                 'id="manifest-head"', release.manifest_hash, "Order of signing"):
        assert part in page, part
    client_for(client, owner)
    page = client.get(newer.get_absolute_url()).content.decode()
    assert "data-diff" in page and "Changes since release" in page
    assert "Edit draft" in page and "Submit for sign-off" in page


def grow(release, owner, n, signers):
    for item in release.checklist_items.all()[:n]:
        add_link(item, owner)
        file_evidence(item, owner)
    for _ in range(n):
        passing_run(release)
    for user, role in signers:
        sign(release, user, role)


def test_the_page_query_count_does_not_grow_with_rows(client, release, owner, security,
                                                      compliance2):
    client_for(client, owner)
    url = release.get_absolute_url()
    grow(release, owner, 1, [(security, Role.SECURITY)])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    grow(release, owner, 3, [(compliance2, Role.COMPLIANCE)])
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert page.content.decode().count("data-run=") >= 4
    assert len(many) == len(few)
