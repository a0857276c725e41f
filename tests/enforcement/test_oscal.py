"""The agent's OSCAL Assessment Results parse with compliance-trestle's OSCAL models."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from trestle.oscal.assessment_results import AssessmentResults

from almportal.audit.models import ExportKind, ExportRecord
from almportal.audit.selectors import ledger_head
from almportal.audit.services import ledger_catch_up
from almportal.releases import services as releases

from ..conftest import client_for
from ..factories import make_release


@pytest.fixture
def reviewed(team, owner):
    """An approved release (every item accepted on an evaluation run) and a newer one in
    review with a file as evidence of its first item."""
    agent = team.agent()
    approved = team.approved_release(agent)
    pending = releases.release_submit(actor=team.delegate,
                                      release=make_release(agent, actor=team.delegate))
    item = pending.checklist_items.first()
    evidence = releases.evidence_add(actor=team.delegate, item=item, kind="file",
                                     upload=SimpleUploadedFile("dpia.pdf", b"%PDF-1.4\n%%EOF\n"))
    ledger_catch_up()
    return agent, approved, pending, evidence


def parsed(tmp_path, document: dict) -> AssessmentResults:
    path = tmp_path / "assessment-results.json"
    path.write_text(json.dumps(document))
    model = AssessmentResults.oscal_read(path)
    assert model is not None
    return model


def test_the_export_validates_with_trestle(reviewed, auditor, tmp_path):
    agent, approved, pending, evidence = reviewed
    answer = client_for(APIClient(), auditor).get(
        f"/api/v1/enforcement/agents/{agent.slug}/oscal-assessment-results/")
    assert answer.status_code == 200
    document = answer.json()
    model = parsed(tmp_path, document)
    by_title = {r.title: r for r in model.results}
    approved_result = by_title[f"Readiness of {approved}"]
    items = list(approved.checklist_items.all())
    assert len(approved_result.observations) == len(items)
    assert all(o.props[2].value == "accepted" for o in approved_result.observations)
    assert approved_result.findings  # the tier's checklist cites framework clauses
    assert all(f.target.status.state.value == "satisfied" for f in approved_result.findings)
    pending_result = by_title[f"Readiness of {pending}"]
    assert {p.value for p in pending_result.props} >= {pending.manifest_hash}
    resources = {r.title: r for r in model.back_matter.resources}
    [rlink] = resources[str(evidence)].rlinks
    assert rlink.hashes[0].value == evidence.sha256 and rlink.hashes[0].algorithm == "SHA-256"
    head = ledger_head()
    ledger = resources["Audit ledger head"]
    assert head.seq > 0
    assert (ledger.props[0].value, ledger.rlinks[0].hashes[0].value) == (str(head.seq), head.hash)
    assert ExportRecord.objects.filter(kind=ExportKind.OSCAL, agent=agent,
                                       created_by=auditor).exists()


def test_clauses_cited_by_open_items_are_not_satisfied(reviewed, tmp_path):
    from almportal.enforcement.oscal import assessment_results

    agent, _, pending, _ = reviewed
    model = parsed(tmp_path, assessment_results(agent))
    result = next(r for r in model.results if r.title == f"Readiness of {pending}")
    cited = {c for item in pending.checklist_items.all() for c in item.clauses}
    findings = result.findings
    assert findings and {f.target.target_id for f in findings} <= cited
    assert all(f.target.status.state.value == "not-satisfied" for f in findings)


def test_an_agent_without_releases_still_exports_a_valid_document(agent, tmp_path):
    from almportal.enforcement.oscal import assessment_results

    model = parsed(tmp_path, assessment_results(agent))
    assert model.results


def test_the_download_is_for_those_who_may_export(reviewed, auditor, owner, client):
    agent = reviewed[0]
    url = f"/enforcement/agents/{agent.slug}/oscal-assessment-results.json"
    assert client_for(client, owner).get(url).status_code == 403
    api = f"/api/v1/enforcement/agents/{agent.slug}/oscal-assessment-results/"
    assert client_for(APIClient(), owner).get(api).status_code == 403
    answer = client_for(client, auditor).get(url)
    assert answer.status_code == 200
    assert "attachment" in answer["Content-Disposition"]
    assert "assessment-results" in json.loads(answer.content)
    assert client_for(client, auditor).get(
        "/enforcement/agents/nobody/oscal-assessment-results.json").status_code == 404
    page = client_for(client, auditor).get(f"/audit/agents/{agent.slug}/as-of/")
    assert url in page.content.decode()



def test_the_queries_do_not_grow_with_evidence(reviewed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from almportal.enforcement.oscal import assessment_results

    agent, _, pending, _ = reviewed

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            assessment_results(agent)
        return len(queries)

    before = counted()
    for item in pending.checklist_items.all():
        for n in range(3):
            releases.evidence_add(actor=item.owner, item=item, kind="link",
                                  url=f"https://evidence.example.test/{item.pk}/{n}")
    assert counted() == before
