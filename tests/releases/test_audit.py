"""Readiness records reach the evidence pack, the as-of view and the ledger's agent filing."""

import pytest
from django.utils import timezone

from almportal.accounts.roles import Role
from almportal.audit.services import agent_id_of
from almportal.releases import audit_sections
from almportal.releases.models import SignOff

from .helpers import add_link, high_release, passing_run, sign

pytestmark = pytest.mark.django_db


def test_the_pack_and_the_as_of_view_hold_checklists_runs_and_sign_offs(owner, compliance,
                                                                         security, delegate):
    release = high_release(owner, compliance, delegate)
    add_link(release.checklist_items.first(), owner)
    passing_run(release)
    sign(release, security, Role.SECURITY)
    agent = release.agent
    sections = (audit_sections.pack_checklists, audit_sections.pack_evaluations,
                audit_sections.pack_signoffs)
    paths = {f.path for section in sections for f in section(agent)}
    assert paths == {"checklists.json", "suites.json", "runs.json", "signoffs.json"}
    now = timezone.now()
    assert len(audit_sections.as_of_signoffs(agent, now).items) == 1
    assert len(audit_sections.as_of_evaluations(agent, now).items) == 1
    row = SignOff.objects.get().history.first()
    assert agent_id_of(row) == agent.pk


def test_file_evidence_enters_the_ledger_filed_under_its_agent(owner, compliance, delegate):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from almportal.audit.models import LedgerEntry
    from almportal.audit.services import ledger_catch_up
    from almportal.releases import services

    release = high_release(owner, compliance, delegate)
    item = release.checklist_items.first()
    services.evidence_add(actor=owner, item=item, kind="file",
                          upload=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n%%EOF\n"))
    add_link(item, owner)
    ledger_catch_up()
    entries = LedgerEntry.objects.filter(object_model="releases.evidence")
    assert entries.count() == 2
    assert {e.agent_id for e in entries} == {release.agent_id}
