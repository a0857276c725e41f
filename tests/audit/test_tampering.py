"""Tampering through raw SQL, the way someone with database access would: with the ledger, with
history rows and live rows behind it, and with the chain as a whole (rebuilt from an entry on,
or cut and its head moved back). Whole verification (chain, signed checkpoints, content) names
the first bad entry or object, through the command, the page and the API alike."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from almportal.audit import ledger, signing
from almportal.audit.assurance import verify_all
from almportal.audit.models import LedgerEntry, LedgerHead, SignedCheckpoint, VerificationRun
from almportal.audit.services import ledger_catch_up
from almportal.core.errors import Conflict
from almportal.inventory.models import Agent

from .test_verify import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(released_agent) -> list[LedgerEntry]:
    """The whole ledger, its head signed."""
    ledger_catch_up()
    checkpoint = signing.sign_head()
    return list(LedgerEntry.objects.filter(seq__lte=checkpoint.seq).order_by("seq"))


def _agent_entry(agent: Agent, action: str = "changed") -> LedgerEntry:
    return (LedgerEntry.objects.filter(object_model="inventory.agent", object_pk=str(agent.pk),
                                       action=action).order_by("seq").first())


def _rechain_from(seq: int) -> None:
    """Recompute every hash from `seq` on so the chain holds together, and move the head: the
    consistent rebuild the chain alone cannot expose."""
    prev = LedgerEntry.objects.get(seq=seq - 1).hash if seq > 1 else ledger.GENESIS_HASH
    for entry in LedgerEntry.objects.filter(seq__gte=seq).order_by("seq"):
        entry.prev_hash = prev
        entry.hash = ledger.hash_of(entry)
        tamper("UPDATE audit_ledgerentry SET prev_hash = %s, hash = %s WHERE seq = %s",
               [entry.prev_hash, entry.hash, entry.seq])
        prev = entry.hash
    tamper("UPDATE audit_ledgerhead SET hash = %s WHERE id = 1", [prev])


# --- The ways to tamper: each returns the entry the verifier must name, and a word of why ----

def update_entry(chain, agent):
    tamper("UPDATE audit_ledgerentry SET reason = 'nothing to see' WHERE seq = %s",
           [chain[3].seq])
    return chain[3].seq, "altered"


def delete_entry(chain, agent):
    tamper("DELETE FROM audit_ledgerentry WHERE seq = %s", [chain[2].seq])
    return chain[2].seq, "deleted"


def insert_entry(chain, agent):
    last = chain[-1]
    forged = LedgerEntry(seq=last.seq + 1, time=last.time, actor_id=None, actor_name="mallory",
                         object_model="inventory.agent", object_pk=str(agent.pk),
                         object_repr="x", agent_id=agent.pk, action="changed", changes="[]",
                         reason="forged", history_model="inventory.historicalagent",
                         history_id=999999, prev_hash=last.hash)
    forged.hash = ledger.hash_of(forged)
    tamper("INSERT INTO audit_ledgerentry (seq, time, actor_name, object_model, object_pk, "
           "object_repr, agent_id, action, changes, reason, history_model, history_id, "
           "prev_hash, hash) VALUES (%s, %s, 'mallory', 'inventory.agent', %s, 'x', %s, "
           "'changed', '[]', 'forged', 'inventory.historicalagent', 999999, %s, %s)",
           [forged.seq, forged.time, forged.object_pk, agent.pk, last.hash, forged.hash])
    tamper("UPDATE audit_ledgerhead SET seq = %s, hash = %s WHERE id = 1",
           [forged.seq, forged.hash])
    return forged.seq, "inserted"


def edit_history_row(chain, agent):
    """Who changed it, rewritten in history: the as-of view would show the forged actor."""
    entry = _agent_entry(agent)
    tamper("UPDATE inventory_historicalagent SET business_unit = 'Forged unit' "
           "WHERE history_id = %s", [entry.history_id])
    return entry.seq, "business_unit"


def edit_live_row(chain, agent):
    tamper("UPDATE inventory_agent SET purpose = 'Something else entirely' WHERE id = %s",
           [agent.pk])
    latest = (LedgerEntry.objects.filter(object_model="inventory.agent", object_pk=str(agent.pk))
              .order_by("-seq").first())
    return latest.seq, "purpose"


def rebuild_chain(chain, agent):
    """The entry's reason rewritten (the history row's too), and the chain rebuilt from it: only
    the signed checkpoint can tell."""
    entry = _agent_entry(agent)
    tamper("UPDATE audit_ledgerentry SET reason = 'Approved as usual' WHERE seq = %s",
           [entry.seq])
    tamper("UPDATE inventory_historicalagent SET history_change_reason = 'Approved as usual' "
           "WHERE history_id = %s", [entry.history_id])
    _rechain_from(entry.seq)
    return chain[-1].seq, "rebuilt"


def rebuild_chain_leaving_history(chain, agent):
    """A rebuild that forgot the history row: the content check names the entry itself."""
    entry = _agent_entry(agent)
    tamper("UPDATE audit_ledgerentry SET reason = 'Approved as usual' WHERE seq = %s",
           [entry.seq])
    _rechain_from(entry.seq)
    return entry.seq, "reason"


def cut_tail(chain, agent):
    keep = chain[-3]
    tamper("DELETE FROM audit_ledgerentry WHERE seq > %s", [keep.seq])
    tamper("UPDATE audit_ledgerhead SET seq = %s, hash = %s WHERE id = 1", [keep.seq, keep.hash])
    return keep.seq + 1, "cut"


TAMPERING = [update_entry, delete_entry, insert_entry, edit_history_row, edit_live_row,
             rebuild_chain, rebuild_chain_leaving_history, cut_tail]


@pytest.fixture(params=TAMPERING, ids=lambda fn: fn.__name__)
def tampered(request, chain, released_agent):
    return request.param(chain, released_agent)


def test_it_passes_an_untouched_ledger_with_its_checkpoint(chain):
    result = verify_all()
    assert result.ok, [str(f) for f in result.findings] + [result.problem]
    assert result.checkpoint.seq == chain[-1].seq


def test_it_names_the_first_bad_entry(tampered):
    seq, why = tampered
    result = verify_all()
    assert not result.ok
    assert result.first_bad_seq == seq, result.problem
    assert why in result.problem


def test_the_command_names_it(tampered):
    seq, why = tampered
    with pytest.raises(CommandError, match=f"entry #{seq}") as caught:
        call_command("verify_audit_ledger")
    assert why in str(caught.value)
    assert VerificationRun.objects.get().first_bad_seq == seq


def test_the_page_names_it(tampered, client, auditor):
    seq, why = tampered
    client.force_login(auditor)
    response = client.post("/audit/verify/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "The ledger does not match" in page
    assert f"<strong>#{seq}</strong>" in page
    assert why in page


def test_the_api_names_it(tampered, client, auditor):
    seq, why = tampered
    client.force_login(auditor)
    body = client.get("/api/v1/audit/ledger/verify/").json()
    assert body["ok"] is False
    assert body["first_bad_seq"] == seq
    assert why in body["problem"]


def test_it_names_model_object_and_field_of_an_edited_history_row(chain, released_agent):
    seq, _ = edit_history_row(chain, released_agent)
    finding = verify_all().findings[0]
    assert (finding.seq, finding.model, finding.object_pk, finding.field) == (
        seq, "inventory.agent", str(released_agent.pk), "business_unit")
    assert "Forged unit" in finding.problem


def test_it_names_model_object_and_field_of_an_edited_live_row(chain, released_agent):
    edit_live_row(chain, released_agent)
    [finding] = verify_all().findings
    assert (finding.model, finding.object_pk, finding.field) == (
        "inventory.agent", str(released_agent.pk), "purpose")
    assert "outside the application" in finding.problem


def test_it_names_a_live_row_history_never_saw(chain, released_agent):
    tamper("UPDATE inventory_historicalagent SET id = id + 100000 WHERE id = %s",
           [released_agent.pk])
    findings = [f for f in verify_all().findings if f.field == ""]
    assert findings and findings[0].object_pk == str(released_agent.pk)
    assert "no record of it" in findings[0].problem


def test_it_refuses_a_forged_checkpoint(chain):
    checkpoint = SignedCheckpoint.objects.get()
    tamper("UPDATE audit_signedcheckpoint SET seq = %s WHERE id = %s",
           [checkpoint.seq - 1, checkpoint.pk])
    result = verify_all()
    assert result.first_bad_seq == checkpoint.seq - 1
    assert "does not verify" in result.problem


def test_catch_up_never_reappends_rows_behind_a_signed_head(chain, released_agent):
    cut_tail(chain, released_agent)
    with pytest.raises(Conflict, match="signed checkpoint"):
        ledger_catch_up()
    assert LedgerHead.objects.get().seq == chain[-3].seq
    assert not LedgerEntry.objects.filter(seq__gt=chain[-3].seq).exists()


def test_the_catch_up_command_says_why_it_appends_nothing(chain, released_agent):
    cut_tail(chain, released_agent)
    with pytest.raises(Conflict):
        call_command("audit_catch_up")


def test_it_signs_no_head_behind_a_broken_checkpoint(chain, released_agent):
    rebuild_chain(chain, released_agent)
    assert signing.sign_head() is None
    assert SignedCheckpoint.objects.count() == 1


def test_catch_up_still_appends_when_the_ledger_matches_its_checkpoint(chain, released_agent):
    released_agent.purpose = "Now also answers IT questions."
    released_agent._history_user = released_agent.business_owner
    released_agent.save()  # no on-commit append here: the catch-up has it to do
    assert ledger_catch_up() == 1
    assert verify_all().ok


def test_each_finding_is_in_the_api_response(chain, released_agent, client, auditor):
    seq, _ = edit_history_row(chain, released_agent)
    client.force_login(auditor)
    body = client.get("/api/v1/audit/ledger/verify/").json()
    assert {"seq": seq, "model": "inventory.agent", "object_pk": str(released_agent.pk),
            "field": "business_unit"}.items() <= body["findings"][0].items()
    assert json.dumps(body)  # plain JSON all through


def test_the_as_of_view_says_when_history_disagrees_with_the_ledger(chain, released_agent,
                                                                     client, auditor):
    client.force_login(auditor)
    url = f"/audit/agents/{released_agent.slug}/as-of/?at=2100-01-01T00:00"
    assert "Checked against the ledger" in client.get(url).content.decode()
    seq, _ = edit_history_row(chain, released_agent)
    page = client.get(url).content.decode()
    assert "History does not agree with the ledger" in page
    assert f"entry #{seq}, inventory.agent #{released_agent.pk}, field business_unit" in page
