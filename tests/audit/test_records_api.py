"""The API over what the audit area keeps on record: retention holds (placed and released as on
the agent's retention page), verification runs (recorded as the verify page records them) and
exports. Same readers as the pages; only those who manage retention place or release holds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.accounts.models import TokenScope
from almportal.audit import api_records, services
from almportal.audit.assurance import Verification
from almportal.audit.models import (
    CheckpointKind,
    ExportKind,
    LedgerCheckpoint,
    RetentionHold,
    VerificationRun,
)
from almportal.audit.selectors import agent_holds, recent_exports, recent_verifications

from ..api.test_token_scopes import client_with
from ..clients import api
from ..conftest import client_for
from ..factories import make_agent

pytestmark = pytest.mark.django_db

HOLDS = "/api/v1/audit/retention-holds/"
RUNS = "/api/v1/audit/verifications/"
EXPORTS = "/api/v1/audit/exports/"


def in_a_month() -> str:
    return (timezone.localdate() + timedelta(days=30)).isoformat()


@pytest.fixture
def hold(agent, keeper):
    return services.retention_hold_place(actor=keeper, agent=agent, reason="Litigation",
                                         legal_hold=True)


# --- Retention holds ---------------------------------------------------------------------------

def test_it_places_a_hold_with_its_history(agent, keeper):
    answer = api(keeper).post(HOLDS, {"agent": agent.slug, "reason": "Regulator asked",
                                      "retain_until": in_a_month()}, format="json")
    assert answer.status_code == 201, answer.json()
    hold = RetentionHold.objects.get()
    assert (hold.agent, hold.placed_by, hold.legal_hold) == (agent, keeper, False)
    assert answer.json()["id"] == hold.pk and answer.json()["active"] is True
    assert answer.json()["retain_until"] == in_a_month()
    row = hold.history.latest()
    assert (row.history_user, row.history_change_reason) == (keeper, "Retention set: "
                                                                     "Regulator asked")


def test_it_places_a_legal_hold_without_a_date(agent, keeper):
    answer = api(keeper).post(HOLDS, {"agent": agent.slug, "reason": "Litigation",
                                      "legal_hold": True}, format="json")
    assert answer.status_code == 201
    assert RetentionHold.objects.get().history.latest().history_change_reason == \
        "Legal hold placed: Litigation"


def test_it_lists_the_holds_the_page_shows(client, agent, owner, keeper, auditor, hold):
    other = services.retention_hold_place(actor=keeper, agent=make_agent(owner),
                                          reason="Elsewhere", legal_hold=True)
    listed = api(auditor).get(HOLDS, {"agent": agent.slug}).json()["results"]
    assert [h["id"] for h in listed] == [h.pk for h in agent_holds(agent)] == [hold.pk]
    assert listed[0]["placed_by"] == keeper.username and listed[0]["agent"] == agent.slug
    page = client_for(client, auditor).get(f"/audit/agents/{agent.slug}/retention/")
    assert "Litigation" in page.content.decode()
    everyone = {h["id"] for h in api(auditor).get(HOLDS).json()["results"]}
    assert everyone == {hold.pk, other.pk}


def test_it_shows_one_hold(auditor, hold):
    answer = api(auditor).get(f"{HOLDS}{hold.pk}/")
    assert answer.status_code == 200 and answer.json()["legal_hold"] is True
    assert api(auditor).get(f"{HOLDS}{hold.pk + 1}/").status_code == 404


def test_it_refuses_bad_input_naming_the_field(agent, keeper):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    for body, field in [({"agent": agent.slug}, "reason"),
                        ({"agent": agent.slug, "reason": "  "}, "reason"),
                        ({"agent": agent.slug, "reason": "x", "retain_until": "soon"},
                         "retain_until"),
                        ({"agent": agent.slug, "reason": "x"}, "retain_until"),
                        ({"agent": agent.slug, "reason": "x", "retain_until": yesterday},
                         "retain_until"),
                        ({"agent": agent.slug, "reason": "x", "legal_hold": True,
                          "placed_by": "me"}, "placed_by"),
                        ({"reason": "x", "legal_hold": True}, "agent")]:
        answer = api(keeper).post(HOLDS, body, format="json")
        assert answer.status_code == 400, body
        assert field in answer.json()["errors"], (body, answer.json())
    assert not RetentionHold.objects.exists()


def test_an_agent_not_there_is_a_404(keeper):
    answer = api(keeper).post(HOLDS, {"agent": "no-such-agent", "reason": "x",
                                      "legal_hold": True}, format="json")
    assert answer.status_code == 404 and not RetentionHold.objects.exists()


def test_readers_who_do_not_manage_retention_get_403(agent, auditor, security, hold):
    for reader in (auditor, security):
        assert api(reader).get(f"{HOLDS}{hold.pk}/").status_code == 200
        placed = api(reader).post(HOLDS, {"agent": agent.slug, "reason": "x",
                                          "legal_hold": True}, format="json")
        released = api(reader).post(f"{HOLDS}{hold.pk}/release/", {"reason": "Done"},
                                    format="json")
        assert (placed.status_code, released.status_code) == (403, 403)
    assert list(RetentionHold.objects.all()) == [hold]
    assert RetentionHold.objects.get().released_at is None


def test_those_outside_the_audit_roles_get_403(agent, owner, hold):
    client = api(owner)
    assert client.get(HOLDS, {"agent": agent.slug}).status_code == 403
    assert client.get(f"{HOLDS}{hold.pk}/").status_code == 403
    assert client.post(f"{HOLDS}{hold.pk}/release/", {"reason": "Mine"},
                       format="json").status_code == 403
    assert RetentionHold.objects.get().released_at is None


def test_it_releases_a_hold_with_its_history(keeper, hold):
    answer = api(keeper).post(f"{HOLDS}{hold.pk}/release/", {"reason": "Case closed"},
                              format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["active"] is False and answer.json()["released_by"] == keeper.username
    hold.refresh_from_db()
    assert (hold.released_by, hold.release_reason) == (keeper, "Case closed")
    row = hold.history.latest()
    assert (row.history_user, row.history_change_reason) == (keeper, "Hold released: Case closed")


def test_a_release_needs_a_reason_and_happens_once(keeper, hold):
    missing = api(keeper).post(f"{HOLDS}{hold.pk}/release/", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    assert RetentionHold.objects.get().released_at is None
    api(keeper).post(f"{HOLDS}{hold.pk}/release/", {"reason": "Case closed"}, format="json")
    again = api(keeper).post(f"{HOLDS}{hold.pk}/release/", {"reason": "Again"}, format="json")
    assert again.status_code == 409 and "already released" in again.json()["detail"]
    assert api(keeper).post(f"{HOLDS}{hold.pk + 1}/release/", {"reason": "x"},
                            format="json").status_code == 404


# --- Verification runs -------------------------------------------------------------------------

def test_it_verifies_and_records_the_run_as_the_page_does(released_agent, auditor):
    computed = api(auditor).get("/api/v1/audit/ledger/verify/").json()
    answer = api(auditor).post(RUNS)
    assert answer.status_code == 201, answer.json()
    run = VerificationRun.objects.get()
    body = answer.json()
    assert (body["id"], body["ok"], body["run_by"]) == (run.pk, True, auditor.username)
    assert (body["checked"], body["head_seq"]) == (computed["checked"], computed["head_seq"])
    assert body["findings"] == [] and body["unledgered"] == computed["unledgered"]
    assert run.history.latest().history_user == auditor
    assert run.history.latest().history_change_reason == "Ledger verified"
    assert LedgerCheckpoint.objects.filter(kind=CheckpointKind.VERIFIED).exists()


def test_a_failed_verification_is_recorded_without_a_checkpoint(monkeypatch, compliance):
    failed = Verification(ok=False, checked=3, head_seq=3, first_bad_seq=2, problem="Bad hash")
    monkeypatch.setattr(api_records, "verify_all", lambda: failed)
    answer = api(compliance).post(RUNS)
    assert answer.status_code == 201
    assert (answer.json()["ok"], answer.json()["first_bad_seq"]) == (False, 2)
    assert VerificationRun.objects.get().history.latest().history_change_reason == \
        "Ledger verification failed"
    assert not LedgerCheckpoint.objects.exists()


def test_it_lists_the_runs_the_audit_home_shows(client, released_agent, auditor, compliance):
    api(auditor).post(RUNS)
    api(compliance).post(RUNS)
    listed = api(auditor).get(RUNS).json()["results"]
    assert [r["id"] for r in listed] == [r.pk for r in recent_verifications()]
    assert [r["run_by"] for r in listed] == [compliance.username, auditor.username]
    one = api(auditor).get(f"{RUNS}{listed[0]['id']}/")
    assert one.status_code == 200 and one.json() == listed[0]
    assert api(auditor).get(f"{RUNS}{listed[0]['id'] + 1}/").status_code == 404
    assert client_for(client, auditor).get("/audit/").status_code == 200


def test_verification_is_for_the_audit_roles(owner):
    assert api(owner).post(RUNS).status_code == 403
    assert api(owner).get(RUNS).status_code == 403
    assert not VerificationRun.objects.exists()


def test_a_read_token_lists_runs_but_does_not_record_one(compliance):
    client = client_with(compliance, TokenScope.READ)
    assert client.get(RUNS).status_code == 200
    assert client.post(RUNS).status_code == 403
    assert not VerificationRun.objects.exists()


# --- Exports on record -------------------------------------------------------------------------

def test_it_lists_the_exports_the_audit_home_shows(agent, exporter, security):
    services.export_record(actor=exporter, kind=ExportKind.CSV, filters={"action": "created"})
    pack = services.export_record(actor=exporter, kind=ExportKind.AGENT_PACK, agent=agent)
    listed = api(security).get(EXPORTS).json()["results"]
    assert [e["id"] for e in listed] == [e.pk for e in recent_exports()]
    assert listed[0] == api(security).get(f"{EXPORTS}{pack.pk}/").json()
    assert (listed[0]["kind"], listed[0]["agent"], listed[0]["created_by"]) == (
        "agent_pack", agent.slug, exporter.username)
    assert listed[1]["filters"] == {"action": "created"}
    csv = api(security).get(EXPORTS, {"kind": "csv"}).json()["results"]
    assert [e["kind"] for e in csv] == ["csv"]
    assert api(security).get(EXPORTS, {"agent": agent.slug}).json()["results"] == [listed[0]]


def test_an_export_through_the_api_is_on_record(released_agent, exporter):
    client = api(exporter)
    response = client.get("/api/v1/audit/ledger/export/csv/", {"agent": released_agent.slug})
    b"".join(response.streaming_content)
    [record] = client.get(EXPORTS).json()["results"]
    assert (record["kind"], record["agent"]) == ("csv", released_agent.slug)


def test_exports_are_for_the_audit_roles(exporter, owner):
    record = services.export_record(actor=exporter, kind=ExportKind.CSV)
    assert api(owner).get(EXPORTS).status_code == 403
    assert api(owner).get(f"{EXPORTS}{record.pk}/").status_code == 403
    assert api(exporter).get(f"{EXPORTS}{record.pk + 1}/").status_code == 404
