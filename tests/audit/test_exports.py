import csv
import io
import json
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

import almportal.audit
from almportal.audit import ledger
from almportal.audit.exports import CSV_COLUMNS, bounded, jsonl_stream
from almportal.audit.models import ExportRecord, LedgerEntry, LedgerHead
from almportal.audit.services import ledger_catch_up
from almportal.audit.verify import verify_export

pytestmark = pytest.mark.django_db

SCHEMA = Path(almportal.audit.__file__).parent / "schemas" / "ledger-entry.schema.json"


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


@pytest.fixture
def history(released_agent):
    ledger_catch_up()
    return released_agent


def test_it_streams_json_lines_ending_with_the_last_hash(history, client, exporter):
    client.force_login(exporter)
    lines = download(client, "/audit/export.jsonl").decode().splitlines()
    rows = [json.loads(line) for line in lines]
    entries, end = rows[:-1], rows[-1]
    last = LedgerEntry.objects.filter(seq__lte=entries[-1]["seq"]).last()
    assert [r["seq"] for r in entries] == list(range(1, len(entries) + 1))
    assert end["type"] == "end"
    assert (end["last_seq"], end["last_hash"], end["count"]) == (last.seq, last.hash, len(entries))


def test_it_filters_an_export_by_agent_and_action(history, client, exporter):
    client.force_login(exporter)
    body = download(client, f"/audit/export.jsonl?agent={history.slug}&action=changed")
    rows = [json.loads(line) for line in body.decode().splitlines()][:-1]
    assert rows and all(r["agent"] == history.pk and r["action"] == "changed" for r in rows)


def test_each_export_is_recorded_and_enters_the_ledger(history, client, exporter, ledgered):
    client.force_login(exporter)
    with ledgered():
        body = download(client, "/audit/export.csv?action=created")
    export = ExportRecord.objects.get()
    assert (export.kind, export.created_by, export.filters) == ("csv", exporter,
                                                                {"action": "created"})
    entry = LedgerEntry.objects.filter(object_model="audit.exportrecord").get()
    assert entry.actor_id == exporter.pk
    assert export.last_seq < entry.seq  # the export's own entry comes after what it holds
    assert next(csv.reader([body.decode().splitlines()[-1]]))[0] == "end"


@pytest.mark.parametrize("url", ["/audit/export.csv", "/audit/export.jsonl",
                                 "/api/v1/audit/ledger/export/jsonl/"])
def test_it_refuses_exports_without_the_permission(history, client, owner, security, url):
    for user in (owner, security):  # neither role holds audit.export_ledger
        client.force_login(user)
        assert client.get(url).status_code == 403
    assert not ExportRecord.objects.exists()


def test_it_verifies_an_untouched_export_in_both_formats(history, client, exporter):
    client.force_login(exporter)
    for fmt in ("csv", "jsonl"):
        body = download(client, f"/audit/export.{fmt}")
        result = verify_export(io.BytesIO(body))
        assert result.ok, result.problem
        assert result.last_seq == LedgerEntry.objects.filter(seq__lte=result.last_seq).last().seq


def test_it_catches_a_changed_row_in_a_json_lines_file(history, client, exporter, tmp_path):
    client.force_login(exporter)
    lines = download(client, "/audit/export.jsonl").decode().splitlines()
    row = json.loads(lines[2])
    row["reason"] = "nothing to see"
    lines[2] = json.dumps(row)
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match="line 3"):
        call_command("verify_audit_export", str(path))


def test_it_catches_a_row_whose_hash_was_recomputed(history, client, exporter):
    client.force_login(exporter)
    lines = download(client, "/audit/export.jsonl").decode().splitlines()
    row = json.loads(lines[1])
    row["actor"]["name"] = "someone else"
    row["hash"] = ledger.hash_of({k: row[k] for k in ledger.CONTENT_KEYS})
    lines[1] = json.dumps(row)
    result = verify_export(lines)
    assert (result.ok, result.line) == (False, 2)
    assert "does not match the ledger" in result.problem


def test_it_catches_a_changed_csv_cell_and_a_cut_file(history, client, exporter):
    client.force_login(exporter)
    body = download(client, "/audit/export.csv").decode()
    assert body.startswith(ledger.CSV_BOM)
    rows = list(csv.reader(io.StringIO(body.removeprefix(ledger.CSV_BOM))))
    assert rows[0] == CSV_COLUMNS
    changed = [r[:] for r in rows]
    changed[3][CSV_COLUMNS.index("reason")] = "edited"
    out = io.StringIO()
    csv.writer(out).writerows(changed)
    assert verify_export(out.getvalue().splitlines(keepends=True)).line == 4
    out = io.StringIO()
    csv.writer(out).writerows(rows[:-2])
    assert "cut short" in verify_export(out.getvalue().splitlines(keepends=True)).problem


def test_the_command_accepts_a_good_export(history, client, exporter, tmp_path, capsys):
    client.force_login(exporter)
    path = tmp_path / "export.csv"
    path.write_bytes(download(client, "/audit/export.csv"))
    call_command("verify_audit_export", str(path))
    assert "matches the ledger" in capsys.readouterr().out


def test_the_upload_page_checks_a_file(history, client, exporter):
    client.force_login(exporter)
    body = download(client, "/audit/export.jsonl")
    upload = io.BytesIO(body.replace(b'"action":"created"', b'"action":"changed"', 1))
    upload.name = "export.jsonl"
    response = client.post("/audit/verify/file/", {"file": upload})
    assert b"does not match" in response.content
    good = io.BytesIO(body)
    good.name = "export.jsonl"
    assert b"matches the ledger" in client.post("/audit/verify/file/", {"file": good}).content


def test_json_lines_follow_the_schema(history, client, exporter):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    client.force_login(exporter)
    for line in download(client, "/audit/export.jsonl").decode().splitlines():
        jsonschema.validate(json.loads(line), schema)


def test_the_api_lists_and_exports(history, client, exporter):
    client.force_login(exporter)
    listed = client.get(f"/api/v1/audit/ledger/?agent={history.slug}").json()
    assert listed["results"] and all(r["agent_id"] == history.pk for r in listed["results"])
    body = download(client, "/api/v1/audit/ledger/export/jsonl/")
    assert verify_export(io.BytesIO(body)).ok
    assert client.get("/api/v1/audit/ledger/verify/").json()["ok"] is True


# --- Memory: the same peak for 10,000 and 100,000 rows ---------------------------------------

def _fill_ledger(count: int) -> None:
    """Entries with a valid chain, inserted in bulk (much faster than making history)."""
    head = LedgerHead.objects.get_or_create(pk=1)[0]
    seq, prev, start = head.seq, head.hash, timezone.now()
    columns = ["seq", "time", "actor_id", "actor_name", "object_model", "object_pk",
               "object_repr", "agent_id", "action", "changes", "reason", "history_model",
               "history_id", "prev_hash", "hash"]
    sql = (f"INSERT INTO audit_ledgerentry ({', '.join(columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    changes = '[{"field":"name","new":"b","old":"a"}]'
    with connection.cursor() as cursor:
        for offset in range(0, count, 10_000):
            batch = []
            for n in range(offset, min(offset + 10_000, count)):
                seq += 1
                row = {"seq": seq, "time": start + timedelta(microseconds=n), "actor_id": None,
                       "actor_name": "bench", "object_model": "inventory.agent",
                       "object_pk": str(n), "object_repr": f"Agent {n}", "agent_id": None,
                       "action": "changed", "changes": changes, "reason": "bulk",
                       "history_model": "bench.history", "history_id": n, "prev_hash": prev}
                prev = row["hash"] = ledger.hash_of(ledger.content(**row))
                batch.append([row[c] for c in columns])
            cursor.executemany(sql, batch)
    LedgerHead.objects.filter(pk=1).update(seq=seq, hash=prev)


def _peak_while_exporting(last_seq: int) -> tuple[int, int]:
    entries = bounded(LedgerEntry.objects.all(), last_seq)
    tracemalloc.start()
    lines = 0
    for block in jsonl_stream(entries):
        lines += block.count(b"\n")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, lines


def test_an_export_of_100000_rows_keeps_memory_flat(db):
    started = time.monotonic()
    _fill_ledger(100_000)
    small_peak, small = _peak_while_exporting(10_000)
    large_peak, large = _peak_while_exporting(100_000)
    assert (small, large) == (10_001, 100_001)
    # Ten times the rows, about the same peak (one chunk of rows at a time).
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)
    assert large_peak < 20 * 1024 * 1024
    print(f"\npeak memory: 10,000 rows {small_peak / 1e6:.1f} MB, "
          f"100,000 rows {large_peak / 1e6:.1f} MB, in {time.monotonic() - started:.0f}s")


@pytest.mark.parametrize("url", ["/audit/export.jsonl", "/audit/export.csv"])
def test_it_exports_with_the_debug_cursor_on(history, client, exporter, url):
    """With DEBUG on (or queries captured), Django wraps the cursor: the export still runs."""
    from django.test.utils import CaptureQueriesContext

    client.force_login(exporter)
    with CaptureQueriesContext(connection):
        body = download(client, url)
    assert verify_export(io.BytesIO(body)).ok
