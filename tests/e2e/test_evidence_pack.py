"""Done when 5, in a browser: an auditor asks for a portfolio evidence pack, the page answers
at once with a progress bar that follows the worker (htmx polling), then offers the download;
the download, not the request, is recorded in the ledger."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from almportal.accounts.roles import Role
from almportal.audit.models import ExportRecord, PackJob
from almportal.audit.packjobs import pack_job_build

from ..factories import make_agent, make_user
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_portfolio_pack_shows_its_progress_and_then_the_download(page, tmp_path):
    owner = make_user(Role.BUSINESS_OWNER)
    auditor = make_user(Role.AUDITOR, username="audrey")
    for n in range(4):
        make_agent(owner, name=f"Portfolio agent {n}")
    login(page, auditor.username)
    page.goto("/audit/")
    page.get_by_role("button", name="Build the pack").click()
    expect(page.locator("#pack-progress")).to_have_attribute("data-pack-state", "queued")
    job = PackJob.objects.get()
    assert not ExportRecord.objects.exists()

    # A worker half-way through, which then dies past the task time limit.
    PackJob.objects.filter(pk=job.pk).update(state="running", total=4, done=2,
                                             started_at=timezone.now() - timedelta(hours=3))
    expect(page.locator("[data-pack-percent]")).to_have_text("50%")
    expect(page.locator("progress")).to_have_attribute("value", "50")

    pack_job_build(job.pk)  # the next worker takes the stale job over and builds it
    download_link = page.locator("[data-pack-download]")
    expect(download_link).to_be_visible()
    expect(page.locator("#pack-progress")).to_have_attribute("data-pack-state", "ready")
    assert not ExportRecord.objects.exists()
    with page.expect_download() as download:
        download_link.click()
    saved = tmp_path / "pack.zip"
    download.value.save_as(saved)
    names = zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist()
    assert "agents.json" in names and "MANIFEST.sha256" in names
    assert ExportRecord.objects.get().created_by == auditor
