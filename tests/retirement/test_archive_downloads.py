"""Downloading a retirement archive is recorded like every other export: who, which archive,
when, with a signed checkpoint of the ledger."""

import pytest

from almportal.audit.models import ExportRecord
from almportal.retirement.models import Archive

from ..conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/retirement/archives/{pk}/download/",
                                 "/api/v1/archives/{pk}/download/"])
def test_each_download_is_recorded(retired, client, owner, url):
    archive = Archive.objects.get(plan=retired, final=True)
    before = ExportRecord.objects.filter(kind="archive").count()
    response = client_for(client, owner).get(url.format(pk=archive.pk))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    download = ExportRecord.objects.filter(kind="archive").latest("pk")
    assert ExportRecord.objects.filter(kind="archive").count() == before + 1
    assert (download.created_by, download.agent) == (owner, archive.agent)
    assert download.filters == {"archive": archive.pk, "sha256": archive.sha256}
    assert download.history.get().history_change_reason.startswith("Retirement archive "
                                                                    "downloaded")


def test_a_refused_download_records_nothing(retired, client, other_owner):
    archive = Archive.objects.get(plan=retired, final=True)
    before = ExportRecord.objects.count()
    assert client_for(client, other_owner).get(
        f"/retirement/archives/{archive.pk}/download/").status_code == 404
    assert ExportRecord.objects.count() == before
