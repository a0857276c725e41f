"""Internal audits and management reviews: compliance plans them, auditors record findings
(their one kind of write) and verify closure, owners record corrective actions; the person who
recorded an action never verifies it. And the pack's index lists overseers, event logs and
audits as present."""

import io
import json
import zipfile
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.accounts.roles import GROUP_NAMES, Role
from almportal.audit import findings, rules
from almportal.audit.models import ActionState, AuditState, CorrectiveAction, Finding
from almportal.audit.services import ledger_catch_up
from almportal.audit.verify import verify_pack
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.operations import services as operations

from ..clients import api
from ..conftest import client_for
from ..factories import make_agent, make_user
from .test_pack_and_as_of import pack_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def audit(compliance, auditor):
    planned = findings.internal_audit_plan(
        actor=compliance, kind="audit", title="Oversight audit", scope="Agents in production",
        period_start=date(2025, 1, 1), period_end=date(2025, 3, 31), lead=auditor)
    return findings.internal_audit_move(actor=compliance, audit=planned,
                                        state=AuditState.IN_PROGRESS)


@pytest.fixture
def finding(audit, auditor, agent):
    return findings.finding_record(actor=auditor, audit=audit, agent=agent, severity="minor",
                                   title="No overseer", description="None named.",
                                   clause="ISO/IEC 42001 8.4")


def done_action(finding, compliance, owner):
    action = findings.corrective_action_assign(actor=compliance, finding=finding, owner=owner,
                                               description="Name an overseer")
    return findings.corrective_action_record(actor=owner, action=action,
                                             action_taken="Named one", evidence="https://x/1")


# --- Roles ---------------------------------------------------------------------------------

def test_the_auditor_role_writes_findings_and_verifications_only():
    group = Group.objects.get(name=GROUP_NAMES[Role.AUDITOR])
    writes = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions
              .select_related("content_type") if not p.codename.startswith("view_")}
    assert writes == {"audit.add_finding", "audit.verify_correctiveaction",
                      "audit.export_ledger", "retirement.download_archive",
                      "accounts.add_apitoken"}


# --- Services and rules --------------------------------------------------------------------

def test_the_whole_flow_closes_the_finding_with_history(finding, compliance, owner, auditor):
    action = done_action(finding, compliance, owner)
    verified = findings.corrective_action_verify(actor=auditor, action=action, accepted=True,
                                                 note="Seen on the overseers page")
    finding.refresh_from_db()
    assert verified.state == ActionState.VERIFIED and verified.verified_by == auditor
    assert finding.closed_at is not None
    reasons = [h.history_change_reason for h in action.history.order_by("history_date")]
    assert reasons[-1].startswith("Closure verified") and reasons[-2] == "Action recorded as done"
    assert {h.history_user for h in finding.history.all()} == {auditor}


@pytest.mark.parametrize("persona", ["owner", "compliance", "security"])
def test_only_auditors_record_findings(persona, request, audit):
    with pytest.raises(NotPermitted):
        findings.finding_record(actor=request.getfixturevalue(persona), audit=audit,
                                severity="minor", title="t", description="d")


def test_findings_need_an_audit_in_progress(compliance, auditor):
    planned = findings.internal_audit_plan(
        actor=compliance, kind="management_review", title="Review", scope="All",
        period_start=date(2025, 1, 1), period_end=date(2025, 1, 2), lead=compliance)
    with pytest.raises(Conflict):
        findings.finding_record(actor=auditor, audit=planned, severity="minor", title="t",
                                description="d")
    with pytest.raises(Conflict):
        findings.internal_audit_move(actor=compliance, audit=planned, state=AuditState.CLOSED)


def test_bad_input_is_refused_with_field_errors(audit, auditor, compliance):
    with pytest.raises(DomainError) as bad:
        findings.finding_record(actor=auditor, audit=audit, severity="awful", title="",
                                description="d")
    assert {"severity", "title"} <= set(bad.value.errors)
    with pytest.raises(DomainError) as period:
        findings.internal_audit_plan(actor=compliance, kind="audit", title="t", scope="s",
                                     period_start=date(2025, 2, 1),
                                     period_end=date(2025, 1, 1), lead=compliance)
    assert "period_end" in period.value.errors


def test_the_recorder_never_verifies_their_own_action(finding, admin_user, owner, auditor):
    # An admin holds every permission, the verifier's too, yet not over their own record.
    action = findings.corrective_action_assign(actor=admin_user, finding=finding, owner=owner,
                                               description="Fix")
    action = findings.corrective_action_record(actor=admin_user, action=action,
                                               action_taken="Fixed", evidence="ref")
    with pytest.raises(NotPermitted):
        findings.corrective_action_verify(actor=admin_user, action=action, accepted=True,
                                          note="ok")
    assert not rules.may_verify_action(admin_user, action)
    assert rules.may_verify_action(auditor, action)


@pytest.mark.parametrize("persona", ["owner", "compliance", "security"])
def test_only_an_auditor_verifies(persona, request, finding, compliance, owner):
    action = done_action(finding, compliance, owner)
    with pytest.raises(NotPermitted):
        findings.corrective_action_verify(actor=request.getfixturevalue(persona),
                                          action=action, accepted=True, note="ok")


def test_an_open_action_is_not_verified_and_a_rejection_reopens(finding, compliance, owner,
                                                                auditor):
    action = findings.corrective_action_assign(actor=compliance, finding=finding, owner=owner,
                                               description="Fix")
    with pytest.raises(Conflict):
        findings.corrective_action_verify(actor=auditor, action=action, accepted=True,
                                          note="ok")
    action = findings.corrective_action_record(actor=owner, action=action,
                                               action_taken="Did", evidence="ref")
    back = findings.corrective_action_verify(actor=auditor, action=action, accepted=False,
                                             note="Not effective")
    assert back.state == ActionState.OPEN and Finding.objects.get().closed_at is None


def test_who_assigns_and_owns_actions(finding, owner, other_owner, auditor, compliance):
    with pytest.raises(NotPermitted):
        findings.corrective_action_assign(actor=other_owner, finding=finding, owner=other_owner,
                                          description="x")
    with pytest.raises(DomainError) as auditor_owner:
        findings.corrective_action_assign(actor=owner, finding=finding, owner=auditor,
                                          description="x")
    assert "owner" in auditor_owner.value.errors
    action = findings.corrective_action_assign(actor=owner, finding=finding, owner=compliance,
                                               description="x")
    with pytest.raises(NotPermitted):
        findings.corrective_action_record(actor=other_owner, action=action,
                                          action_taken="x", evidence="y")
    assert findings.corrective_action_record(actor=compliance, action=action, action_taken="x",
                                             evidence="y").state == ActionState.DONE


# --- API -----------------------------------------------------------------------------------


def test_the_api_flow_and_its_refusals(audit, agent, auditor, owner, other_owner, compliance,
                                       security):
    url = "/api/v1/audit/findings/"
    data = {"audit": audit.pk, "agent": agent.slug, "severity": "major", "title": "Gap",
            "description": "No log"}
    assert api(owner).post(url, data, format="json").status_code == 404  # an audit unseen
    assert api(security).post(url, data, format="json").status_code == 403
    bad = api(auditor).post(url, {**data, "severity": "x", "title": ""}, format="json")
    assert bad.status_code == 400 and {"severity", "title"} <= set(bad.json()["errors"])
    created = api(auditor).post(url, data, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert api(other_owner).get(f"{url}{pk}/").status_code == 404
    assert api(owner).get(f"{url}{pk}/").status_code == 200
    assert api(compliance).get(f"{url}{pk}/").status_code == 200
    actions = "/api/v1/audit/corrective-actions/"
    assert api(other_owner).post(actions, {"finding": pk, "owner": owner.username,
                                           "description": "x"}, format="json").status_code == 404
    made = api(owner).post(actions, {"finding": pk, "owner": owner.username,
                                     "description": "Keep logs"}, format="json")
    assert made.status_code == 201
    action = made.json()["id"]
    recorded = api(owner).post(f"{actions}{action}/record/", {"action_taken": "Done",
                                                              "evidence": "ref"}, format="json")
    assert recorded.status_code == 200 and recorded.json()["state"] == "done"
    assert api(owner).post(f"{actions}{action}/verify/", {"accepted": True, "note": "ok"},
                           format="json").status_code == 403
    verified = api(auditor).post(f"{actions}{action}/verify/", {"accepted": True, "note": "ok"},
                                 format="json")
    assert verified.status_code == 200 and verified.json()["state"] == "verified"


def test_the_api_plans_and_moves_audits(compliance, auditor, owner):
    url = "/api/v1/audit/internal-audits/"
    data = {"kind": "management_review", "title": "Q2 review", "scope": "All",
            "period_start": "2025-04-01", "period_end": "2025-06-30", "lead": compliance.username}
    assert api(auditor).post(url, data, format="json").status_code == 403
    assert api(compliance).post(url, {**data, "lead": "nobody"},
                                format="json").status_code == 400
    created = api(compliance).post(url, data, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api(owner).get(f"{url}{pk}/").status_code == 404
    assert api(auditor).get(f"{url}{pk}/").status_code == 200
    wrong = api(compliance).post(f"{url}{pk}/move/", {"state": "closed"}, format="json")
    assert wrong.status_code == 409


# --- Pages ---------------------------------------------------------------------------------

def test_pages_show_findings_to_who_may_see_them(finding, client, owner, other_owner, auditor):
    url = reverse("audit:finding", args=[finding.pk])
    assert client_for(client, other_owner).get(url).status_code == 404
    assert client.get(reverse("audit:internal-audit", args=[finding.audit_id])
                      ).status_code == 404
    assert client_for(client, owner).get(url).status_code == 200
    page = client_for(client, auditor).get(reverse("audit:internal-audit",
                                                   args=[finding.audit_id]))
    assert page.status_code == 200 and "No overseer" in page.content.decode()


def test_an_auditor_records_a_finding_on_the_page(audit, client, auditor, owner):
    url = reverse("audit:internal-audit", args=[audit.pk])
    response = client_for(client, auditor).post(url, {"severity": "observation",
                                                      "title": "Good logs",
                                                      "description": "Kept well"})
    assert response.status_code == 302 and Finding.objects.get().recorded_by == auditor
    assert client_for(client, owner).post(url, {"severity": "minor"}).status_code == 404


def test_the_verify_page_action_refuses_the_recorder(finding, client, admin_user, owner):
    action = findings.corrective_action_assign(actor=admin_user, finding=finding, owner=owner,
                                               description="Fix")
    findings.corrective_action_record(actor=admin_user, action=action, action_taken="x",
                                      evidence="y")
    response = client_for(client, admin_user).post(
        reverse("audit:action-verify", args=[action.pk]), {"accepted": "1", "note": "ok"})
    assert response.status_code == 403
    assert CorrectiveAction.objects.get().state == ActionState.DONE


def test_the_audit_page_query_count_is_flat(audit, client, auditor, compliance, owner):
    agent = make_agent(owner)
    url = reverse("audit:internal-audit", args=[audit.pk])
    client_for(client, auditor)

    def add():
        f = findings.finding_record(actor=auditor, audit=audit, agent=agent, severity="minor",
                                    title="t", description="d")
        findings.corrective_action_assign(actor=compliance, finding=f, owner=owner,
                                          description="x")
    add()
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(4):
        add()
    with CaptureQueriesContext(connection) as five:
        client.get(url)
    assert len(five.captured_queries) == len(one.captured_queries)
    client.get(reverse("audit:internal-audits"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("audit:internal-audits"))
    findings.internal_audit_plan(actor=compliance, kind="audit", title="Another", scope="s",
                                 period_start=date(2025, 1, 1), period_end=date(2025, 1, 2),
                                 lead=make_user(Role.COMPLIANCE))
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("audit:internal-audits"))
    assert len(more.captured_queries) == len(few.captured_queries)


# --- The evidence pack ---------------------------------------------------------------------

def test_the_pack_lists_overseers_event_logs_and_audits_as_present(
        released_agent, client, exporter, auditor, compliance, audit, ledgered):
    agent = released_agent
    with ledgered():
        owner = agent.business_owner
        operations.overseer_assign(actor=owner, agent=agent, user=owner, role="operator",
                                   training="Course", trained_on=date(2025, 1, 1))
        finding = findings.finding_record(actor=auditor, audit=audit, agent=agent,
                                          severity="minor", title="t", description="d")
        done_action(finding, compliance, owner)
    ledger_catch_up()
    client.force_login(exporter)
    body = pack_of(client, f"/audit/agents/{agent.slug}/evidence-pack.zip")
    archive = zipfile.ZipFile(io.BytesIO(body))
    index = {i["key"]: i for i in json.loads(archive.read("index/evidence-index.json"))}
    for key in ("overseers", "event_logs", "audits"):
        assert index[key]["status"] == "present", key
    assert index["audits"]["sources"][1] == {"model": "audit.finding", "files": ["audits/"]}
    records = json.loads(archive.read("audits/findings.json"))
    assert records[0]["corrective_actions"][0]["state"] == "done"
    assert json.loads(archive.read("oversight/overseers.json"))[0]["training"] == "Course"
    assert verify_pack(io.BytesIO(body)).ok
