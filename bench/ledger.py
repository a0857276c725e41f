"""The audit ledger at a million entries, on PostgreSQL: catch-up, appends, verification,
exports and the history page, each printed as a ratio against a baseline timed interleaved in
the same run.

    DATABASE_URL=postgres://… python -m bench.ledger     (BENCH_LEDGER_ENTRIES=… to resize)

The bench makes its own database (named after DATABASE_URL's, with "_bench_ledger") and drops
it afterwards. It seeds the ledger the way a large portal fills it: history rows written by
the database in bulk, chained by the project's own `ledger.chain` and copied in; the rows
measured at the end (catch-up and appends) go through the real drafting path.

Targets (issues 18 and 21): catch-up with nothing missing within 5 s and with 10,000 missing
within 30 s; appends at 2,000 entries/s or more; a full verification within 10x of hashing the
same bytes, an incremental one in proportion to what is new; exports at 50% or more of COPY's
rows per second, memory growth under 64 MB, first byte within 1 s; the history page within 3x
of the trivial page.
"""

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

ENTRIES = int(os.environ.get("BENCH_LEDGER_ENTRIES", "1000000"))
MISSING = 10_000
T = TypeVar("T")
SEED_BATCH = 50_000
REPEATS = 3
PAGE_REPEATS = 15


def configure() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "almportal.settings")
    os.environ.update({"DEBUG": "0", "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "0",
                       "LOG_LEVEL": "ERROR"})
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-outside-benchmarks")


def make_database():
    """A fresh, migrated database of the bench's own; returns a function that drops it."""
    import django
    from django.db import connection
    from django.test.utils import override_settings

    django.setup()
    override_settings(STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }).enable()
    if connection.vendor != "postgresql":
        raise SystemExit("The ledger bench needs PostgreSQL: set DATABASE_URL=postgres://…")
    original = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{original}_bench_ledger"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(original, verbosity=0)


# --- Seeding ----------------------------------------------------------------------------------

def _agent_and_auditor():
    from django.contrib.auth.models import Group

    from almportal.accounts.models import User
    from almportal.accounts.roles import GROUP_NAMES, Role
    from almportal.inventory import services as inventory
    from almportal.inventory.choices import (
        ActionReach,
        Audience,
        AutonomyLevel,
        DataClassification,
    )

    owner = User.objects.create(username="bench-owner")
    owner.groups.add(Group.objects.get(name=GROUP_NAMES[Role.BUSINESS_OWNER]))
    auditor = User.objects.create(username="bench-auditor")
    auditor.groups.add(Group.objects.get(name=GROUP_NAMES[Role.AUDITOR]))
    agent = inventory.agent_create(actor=owner, data={
        "name": "Bench agent", "purpose": "Benchmark.", "why_agent": "Benchmark.",
        "business_unit": "IT", "intended_users": "Staff", "audience": Audience.INTERNAL,
        "success_metrics": [], "autonomy_level": AutonomyLevel.SUGGEST_ONLY,
        "data_classification": DataClassification.INTERNAL,
        "action_reach": ActionReach.READ_ONLY})
    return agent, auditor


def _history_rows(agent, count: int, start: int) -> list[tuple[str, int, object]]:
    """`count` renames of the agent written by the database itself; (label, id, time) each."""
    from django.db import connection

    model = type(agent.history.first())
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if f.column != "history_id"]
    values = [{"name": "'Bench agent ' || n", "history_type": "'~'",
               "history_date": "now() + interval '1 day' + n * interval '1 microsecond'",
               "history_change_reason": "'bench'"}.get(c, f'h."{c}"') for c in columns]
    template = agent.history.first().history_id
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '
            f"SELECT {', '.join(values)} FROM \"{table}\" h, generate_series(%s, %s) n "
            "WHERE h.history_id = %s ORDER BY n RETURNING history_id, history_date",
            [start, start + count - 1, template])
        rows = sorted(cursor.fetchall())
    return [(model._meta.label_lower, history_id, when) for history_id, when in rows]


def _chained_copy(agent, rows) -> None:
    """Ledger entries for these history rows, chained and written as appends are."""
    from django.db import transaction

    from almportal.audit import ledger
    from almportal.audit.models import LedgerHead
    from almportal.audit.services import _lock_head, insert_entries

    for start in range(0, len(rows), SEED_BATCH):
        drafts = [{"time": when, "actor_id": None, "actor_name": ledger.UNRECORDED_ACTOR,
                   "object_model": "inventory.agent", "object_pk": str(agent.pk),
                   "object_repr": f"Bench agent {history_id}", "agent_id": agent.pk,
                   "action": "changed", "reason": "bench", "history_model": label,
                   "history_id": history_id,
                   "changes": ledger.changes_text([{"field": "name", "old": "Bench agent",
                                                    "new": f"Bench agent {history_id}"}])}
                  for label, history_id, when in rows[start:start + SEED_BATCH]]
        with transaction.atomic():
            head = _lock_head()
            entries = ledger.chain(drafts, after_seq=head.seq, after_hash=head.hash)
            insert_entries(entries)
            LedgerHead.objects.filter(pk=1).update(seq=entries[-1]["seq"],
                                                   hash=entries[-1]["hash"])


def seed(entries: int):
    from django.db import connection

    from almportal.audit.services import ledger_catch_up

    started = time.perf_counter()
    agent, auditor = _agent_and_auditor()
    while ledger_catch_up():  # what migrate and the setup wrote
        pass
    done = 0
    while done < entries:
        count = min(SEED_BATCH * 4, entries - done)
        _chained_copy(agent, _history_rows(agent, count, done))
        done += count
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Seeded {entries:,} ledger entries in {time.perf_counter() - started:.0f} s.")
    return agent, auditor


# --- Measuring ------------------------------------------------------------------------------

def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def interleaved(measured: Callable, baseline: Callable, repeats: int = REPEATS
                ) -> tuple[float, float]:
    """Median seconds of each, run turn about."""
    ours, base = [], []
    for _ in range(repeats):
        base.append(timed(baseline)[0])
        ours.append(timed(measured)[0])
    return statistics.median(ours), statistics.median(base)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_catch_up(agent) -> list[str]:
    from almportal.audit.services import ledger_append, ledger_catch_up

    nothing, appended = timed(ledger_catch_up)
    assert appended == 0, appended
    _history_rows(agent, MISSING, ENTRIES)
    missing, appended = timed(ledger_catch_up)
    assert appended == MISSING, appended
    keys = [(label, history_id) for label, history_id, _ in
            _history_rows(agent, MISSING, ENTRIES + MISSING)]
    append, appended = timed(lambda: ledger_append(keys))
    assert appended == MISSING, appended
    rate = appended / append
    return [
        f"catch-up, nothing missing          {nothing:8.2f} s   (target within 5 s: "
        f"{verdict(nothing <= 5)})",
        f"catch-up, {MISSING:,} missing        {missing:8.2f} s   {MISSING / missing:,.0f} "
        f"entries/s (target within 30 s: {verdict(missing <= 30)})",
        f"append {MISSING:,} history rows      {append:8.2f} s   "
        f"{rate:,.0f} entries/s (target 2,000 or more: {verdict(rate >= 2000)})",
    ]


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _hash_same_bytes() -> Callable:
    """A Python loop hashing as many entries' canonical bytes as the ledger holds (a sample of
    real entries, repeated: a million of them would not fit in memory)."""
    import hashlib

    from django.db import connection

    from almportal.audit import pgsql
    from almportal.audit.models import LedgerHead

    total = LedgerHead.objects.get(pk=1).seq
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pgsql.CONTENT_BYTES} FROM audit_ledgerentry ORDER BY seq "
                       "LIMIT 20000")
        sample = [bytes(row[0]) for row in cursor.fetchall()]
    rounds, rest = divmod(total, len(sample))

    def run():
        sha256 = hashlib.sha256
        for _ in range(rounds):
            for data in sample:
                sha256(data).hexdigest()
        for data in sample[:rest]:
            sha256(data).hexdigest()
    return run


def bench_verification(agent) -> list[str]:
    from almportal.accounts.services import system_user
    from almportal.audit.models import LedgerEntry
    from almportal.audit.selectors import latest_checkpoint
    from almportal.audit.services import ledger_append, ledger_catch_up, verification_record
    from almportal.audit.verify import verify_ledger

    results = []

    def full():
        result = verify_ledger(include_unledgered=False)
        assert result.ok, result.problem
        results.append(result)

    ours, base = interleaved(full, _hash_same_bytes())
    verification_record(actor=system_user(), result=results[-1])
    checkpoint = latest_checkpoint()
    assert checkpoint is not None  # the passing verification just recorded left one
    while ledger_catch_up():
        pass
    ledger_append([(label, history_id) for label, history_id, _ in
                   _history_rows(agent, MISSING, ENTRIES + 2 * MISSING)])
    new = LedgerEntry.objects.filter(seq__gt=checkpoint.seq).count()
    incremental, result = timed(lambda: verify_ledger(since=checkpoint,
                                                      include_unledgered=False))
    assert result.ok, result.problem
    share = new / results[-1].head_seq
    return [
        f"full verification                  {ours:8.2f} s   {ours / base:5.1f}x hashing the "
        f"same bytes ({base:.2f} s; target 10x or less)",
        f"incremental, {new:,} new entries    {incremental:8.2f} s   "
        f"{incremental / ours:.4f} of the full time for {share:.4f} of the entries",
    ]


def _drain(blocks: Iterable[bytes]) -> tuple[int, float, float]:
    """Lines read, seconds to the first block, and memory growth (MB) while reading."""
    started, first, lines = time.perf_counter(), None, 0
    base = peak = rss_mb()
    for n, block in enumerate(blocks):
        if first is None:
            first = time.perf_counter() - started
        lines += block.count(b"\n")
        if n % 64 == 0:
            peak = max(peak, rss_mb())
    return lines, first or 0.0, peak - base


def _copy_all() -> Callable:
    from django.db import connection

    def run():
        with connection.cursor() as cursor, cursor.copy(
                "COPY (SELECT * FROM audit_ledgerentry ORDER BY seq) TO STDOUT") as copy:
            for _ in copy:
                pass
    return run


def bench_exports(auditor) -> list[str]:
    from django.http import StreamingHttpResponse
    from django.test import Client

    from almportal.audit.models import LedgerEntry

    client = Client()
    client.force_login(auditor)
    rows = LedgerEntry.objects.count()
    lines = []
    for fmt in ("csv", "jsonl"):
        seen: dict[str, float] = {}

        def export(fmt=fmt, seen=seen):
            response = client.get(f"/audit/export.{fmt}")
            assert response.status_code == 200, response.status_code
            assert isinstance(response, StreamingHttpResponse)
            seen["lines"], seen["first"], seen["growth"] = _drain(response.streaming_content)

        ours, base = interleaved(export, _copy_all())
        lines.append(
            f"export {fmt:<5} ({rows:,} rows)       {ours:8.2f} s   {base / ours:5.0%} of COPY's "
            f"rows/s ({base:.2f} s; target 50% or more), first block {seen['first']:.2f} s, "
            f"memory +{seen['growth']:.0f} MB")
    return lines


def bench_history_page(agent, auditor) -> list[str]:
    from django.test import Client

    from almportal.audit.models import LedgerHead

    client = Client()
    client.force_login(auditor)
    middle = LedgerHead.objects.get(pk=1).seq // 2
    lines = []
    for label, query in (("first page", ""), ("a page in the middle", f"?before={middle}"),
                         ("one agent's, in the middle", f"?agent={agent.slug}&before={middle}"),
                         ("one record type", "?record_type=inventory.agent")):
        def page(query=query):
            assert client.get(f"/audit/history/{query}").status_code == 200

        def trivial():
            assert Client().get("/login/").status_code == 200

        page()
        ours, base = interleaved(page, trivial, PAGE_REPEATS)
        lines.append(f"/audit/history/ {label:<26} {ours * 1000:6.0f} ms  {ours / base:5.1f}x "
                     f"the login page ({base * 1000:.0f} ms; target 3x or less)")
    return lines


def run() -> list[str]:
    agent, auditor = seed(ENTRIES)
    lines = [f"Audit ledger at {ENTRIES:,} entries (PostgreSQL, medians of {REPEATS} runs "
             "interleaved with their baselines)"]
    for section in (lambda: bench_catch_up(agent), lambda: bench_verification(agent),
                    lambda: bench_exports(auditor), lambda: bench_history_page(agent, auditor)):
        found = section()
        print("\n".join(found), flush=True)
        lines += found
    return lines


def run_in_subprocess(database_url: str) -> None:
    """`make bench`'s hook: the ledger bench needs PostgreSQL and a process of its own."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        print("\nLedger bench skipped: it needs PostgreSQL (DATABASE_URL=postgres://… make bench).")
        return
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "bench.ledger"], cwd=root, check=True,
                   env={**os.environ, "DATABASE_URL": database_url})


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    configure()
    started = time.perf_counter()
    drop = make_database()
    try:
        lines = run()
    finally:
        drop()
    print("\n" + "\n".join(lines))
    print(f"\n(ledger bench: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
