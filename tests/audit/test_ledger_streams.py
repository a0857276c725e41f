"""Exports and verification that stream from PostgreSQL: the database writes the same canonical
bytes Python would, CSV opens safely in a spreadsheet and still verifies, and a verification
can start from its last checkpoint."""

import csv
import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from almportal.accounts.services import system_user
from almportal.audit import exports, pgsql, verify
from almportal.audit.exports import bounded, csv_stream, jsonl_stream
from almportal.audit.ledger import CSV_BOM, entry_content
from almportal.audit.models import LedgerCheckpoint, LedgerEntry
from almportal.audit.selectors import latest_checkpoint
from almportal.audit.services import ledger_append, ledger_catch_up, verification_record
from almportal.audit.verify import verify_export, verify_ledger
from almportal.core.hashing import canonical_json

from .conftest import history_copies, is_postgres
from .test_verify import tamper

pytestmark = pytest.mark.django_db

AWKWARD = ['=HYPERLINK("http://example.test/x","click")', "+1 555 0100", "-2+3", "@SUM(A1:A9)",
           "\tindented", "\rreturn", "'quoted", 'quote " and backslash \\ and slash /',
           "line\nbreak", "control \x01\x1f and DEL \x7f", "é ☃ \u2028 😀", "", "plain"]


@pytest.fixture
def awkward(released_agent):
    """Entries whose names and reasons hold every character escaping could get wrong."""
    ledger_catch_up()
    row = released_agent.history.first()
    keys = []
    for n, text in enumerate(AWKWARD):
        safe = text.replace("{", "{{").replace("}", "}}")
        keys += history_copies(row, 1, n, name=safe, history_change_reason=safe)
    ledger_append(keys)
    # The live row as the last of those history rows left it, so the content check agrees.
    type(released_agent).objects.filter(pk=released_agent.pk).update(name=AWKWARD[-1])
    return LedgerEntry.objects.order_by("seq")


def _all(entries):
    return bounded(entries, entries.last().seq)


def _python_path(monkeypatch):
    monkeypatch.setattr(exports, "_on_postgresql", lambda entries: False)


@is_postgres
def test_postgresql_writes_each_entry_as_python_does(awkward):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, {pgsql.CONTENT_BYTES} FROM audit_ledgerentry ORDER BY seq")
        written = dict(cursor.fetchall())
    for entry in awkward:
        assert bytes(written[entry.seq]) == canonical_json(entry_content(entry)), entry.seq


@is_postgres
def test_the_json_lines_copied_by_postgresql_equal_those_written_in_python(awkward,
                                                                            monkeypatch):
    copied = b"".join(jsonl_stream(_all(awkward))).splitlines()
    _python_path(monkeypatch)
    written = b"".join(jsonl_stream(_all(awkward))).splitlines()
    assert copied[:-1] == written[:-1]  # the closing lines differ only in their time
    assert json.loads(copied[-1])["last_hash"] == json.loads(written[-1])["last_hash"]
    assert len(copied) == awkward.count() + 1


@pytest.mark.parametrize("path", ["database", "python"])
def test_a_csv_with_formula_cells_opens_safely_and_still_verifies(awkward, monkeypatch, path):
    if path == "python":
        _python_path(monkeypatch)
    elif connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    body = b"".join(csv_stream(_all(awkward))).decode("utf-8")
    assert body.startswith(CSV_BOM)
    cells = [cell for row in csv.reader(io.StringIO(body.removeprefix(CSV_BOM)))
             for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http://example.test/x\",\"click\")" in cells
    assert "''quoted" in cells  # a leading quote is doubled, so reading gives it back
    check = verify_export(io.StringIO(body))
    assert check.ok, check.problem
    assert check.rows == awkward.count()
    names = {row["object"]["repr"] for row in exports.parse_csv(io.StringIO(body))
             if row["type"] == "entry"}
    assert set(AWKWARD) - {""} <= names


def test_an_edited_csv_cell_is_caught(awkward):
    body = b"".join(csv_stream(_all(awkward))).decode("utf-8")
    forged = body.replace("'=HYPERLINK", "'=HYPERLYNX", 1)
    assert forged != body
    assert not verify_export(io.StringIO(forged)).ok


def test_a_passing_check_leaves_a_checkpoint_and_the_next_starts_there(awkward):
    first = verify_ledger()
    assert first.ok, first.problem
    verification_record(actor=system_user(), result=first)
    checkpoint = latest_checkpoint()
    assert (checkpoint.seq, checkpoint.entry_hash) == (first.last_seq, first.last_hash)
    ledger_catch_up()  # the run and the checkpoint themselves enter the ledger
    later = verify_ledger(since=checkpoint)
    assert later.ok, later.problem
    assert later.checked == LedgerEntry.objects.filter(seq__gt=checkpoint.seq).count() > 0
    assert later.last_seq == LedgerEntry.objects.last().seq


def test_an_incremental_check_names_a_changed_new_entry(awkward):
    checkpoint = LedgerCheckpoint.objects.create(seq=awkward[3].seq, entry_hash=awkward[3].hash,
                                                 kind="verified")
    target = awkward.last()
    tamper("UPDATE audit_ledgerentry SET reason = %s WHERE seq = %s", ["x", target.seq])
    result = verify_ledger(since=checkpoint)
    assert (result.ok, result.first_bad_seq) == (False, target.seq)


def test_an_incremental_check_refuses_a_checkpoint_whose_entry_changed(awkward):
    entry = awkward[3]
    checkpoint = LedgerCheckpoint.objects.create(seq=entry.seq, entry_hash="f" * 64,
                                                 kind="verified")
    result = verify_ledger(since=checkpoint)
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)
    assert "checkpoint" in result.problem


def test_the_command_checks_incrementally(awkward, capsys):
    call_command("verify_audit_ledger")
    call_command("verify_audit_ledger", "--incremental")
    out = capsys.readouterr().out
    assert f"after checkpoint #{awkward.last().seq}" in out


def _rehash_last_over(content_sql: str) -> LedgerEntry:
    """The last entry's hash (and the head's) made over what `content_sql` writes of it: a
    forger who knows how the verifier reads."""
    last = LedgerEntry.objects.order_by("seq").last()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {content_sql} FROM audit_ledgerentry WHERE seq = %s", [last.seq])
        forged = hashlib.sha256(bytes(cursor.fetchone()[0])).hexdigest()
    tamper("UPDATE audit_ledgerentry SET hash = %s WHERE seq = %s", [forged, last.seq])
    tamper("UPDATE audit_ledgerhead SET hash = %s", [forged])
    return last


@is_postgres
@pytest.mark.parametrize("text", ['a "quoted" reason', "back\\slash", "line\nbreak", "\x01"])
def test_an_entry_hashed_over_its_unescaped_strings_is_named(awkward, text):
    """The verifier reads strings unescaped when none needs escaping; one that does is checked
    against its real content, so a hash over the unescaped text does not pass."""
    tamper("UPDATE audit_ledgerentry SET reason = %s WHERE seq = %s", [text, awkward.last().seq])
    last = _rehash_last_over(pgsql.PLAIN_CONTENT_BYTES)
    result = verify_ledger()
    assert (result.ok, result.first_bad_seq) == (False, last.seq)
    assert "does not match its hash" in result.problem


@is_postgres
def test_an_entry_whose_strings_need_escaping_passes_when_its_hash_is_right(awkward):
    tamper("UPDATE audit_ledgerentry SET reason = %s WHERE seq = %s",
           ['say "hi"', awkward.last().seq])
    _rehash_last_over(pgsql.CONTENT_BYTES)
    result = verify_ledger()
    assert result.ok, result.problem


def test_the_first_bad_entry_is_named_across_ranges(awkward, monkeypatch):
    monkeypatch.setattr(verify, "VERIFY_RANGE", 3)
    target = awkward[7]
    tamper("UPDATE audit_ledgerentry SET reason = %s WHERE seq = %s", ["x", target.seq])
    assert verify_ledger().first_bad_seq == target.seq
    later = awkward[10]
    assert verify_ledger(since=LedgerCheckpoint.objects.create(
        seq=later.seq, entry_hash=later.hash, kind="verified")).ok


@is_postgres
def test_an_empty_json_lines_export_copied_by_postgresql_holds_only_its_closing_line(awkward):
    nothing = bounded(awkward.filter(agent_id=-1), awkward.last().seq)
    [closing] = b"".join(jsonl_stream(nothing)).splitlines()
    assert json.loads(closing)["type"] == "end" and json.loads(closing)["count"] == 0
