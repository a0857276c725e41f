"""An entry's content and hash are pinned: drafting may get faster, but the same history rows
must always make the same bytes, or ledgers written before would no longer verify."""

import datetime as dt

import pytest
from django.db import connection

from almportal.audit import drafting, ledger

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)


def _two_versions(agent) -> list[tuple[str, int]]:
    """A created and a changed version of an agent no longer in the inventory, with fixed ids
    and times; the fields not set here are the same in both, so only these are diffed."""
    model = type(agent.history.first())
    values = {f.attname: getattr(agent.history.first(), f.attname)
              for f in model._meta.concrete_fields}
    common = {**values, "id": 987_654, "history_user_id": None}
    model.objects.bulk_create([
        model(**{**common, "history_id": 7_000_001, "history_type": "+",
                 "history_date": WHEN, "history_change_reason": "Intake drafted",
                 "name": "Pinned helper", "tags": ["hr"], "next_review_at": None,
                 "created_at": WHEN}),
        model(**{**common, "history_id": 7_000_002, "history_type": "~",
                 "history_date": WHEN + dt.timedelta(seconds=1),
                 "history_change_reason": "Renamed \"quoted\" — ünïcode",
                 "name": "Pinned helper\nv2", "tags": ["hr", "it"],
                 "next_review_at": dt.date(2025, 1, 31),
                 "created_at": WHEN + dt.timedelta(seconds=1)}),
    ])
    return [(model._meta.label_lower, 7_000_001), (model._meta.label_lower, 7_000_002)]


def test_a_changed_row_drafts_as_it_always_has(agent):
    changed = drafting.drafts_for(_two_versions(agent))[1]
    assert changed == {
        "time": WHEN + dt.timedelta(seconds=1), "actor_id": None, "actor_name": "(unrecorded)",
        "object_model": "inventory.agent", "object_pk": "987654",
        "object_repr": "Pinned helper\nv2", "agent_id": 987_654, "action": "changed",
        "changes": '[{"field":"name","new":"Pinned helper\\nv2","old":"Pinned helper"},'
                   '{"field":"tags","new":["hr","it"],"old":["hr"]},'
                   '{"field":"next_review_at","new":"2025-01-31","old":null},'
                   '{"field":"created_at","new":"2024-03-01T12:30:16.123456Z",'
                   '"old":"2024-03-01T12:30:15.123456Z"}]',
        "reason": "Renamed \"quoted\" — ünïcode", "history_model": "inventory.historicalagent",
        "history_id": 7_000_002}


def test_its_entry_hashes_as_it_always_has(agent):
    changed = drafting.drafts_for(_two_versions(agent))[1:]
    entry = ledger.chain(changed, after_seq=41, after_hash="ab" * 32)[0]
    assert entry["seq"] == 42
    assert entry["hash"] == "0e742475f650914efaef721bf25e9c34d2dd3b226ad0786076be3d8c1768826b"


@pytest.mark.parametrize(("old", "new"), [
    ({"tags": [1, {"a": 2}]}, {"tags": [1.0, {"a": 2.0}]}),  # equal as Python, not as text
    ({"tags": [1]}, {"tags": [True]}),
    ({"created_at": WHEN}, {"created_at": WHEN.astimezone(dt.timezone(dt.timedelta(hours=2)))}),
    ({"created_at": WHEN}, {"created_at": WHEN + dt.timedelta(microseconds=1)}),
    ({"next_review_at": None}, {"next_review_at": dt.date(2025, 1, 31)}),
    ({"success_metrics": [{"kpi": "x"}]}, {"success_metrics": [{"kpi": "y"}]}),
    ({"name": "Same", "tags": ["a"]}, {"name": "Same", "tags": ["a"]}),
])
@pytest.mark.parametrize("history_type", ["~", "-"])
def test_diffing_values_finds_what_diffing_records_finds(old, new, history_type):
    """Drafting diffs value tuples; the ledger's definition of a change diffs history records
    (audit.ledger.field_changes, which verification uses): both must agree."""
    from almportal.inventory.models import Agent

    model = Agent.history.model
    plan = drafting.plan_for(model)
    base = {"name": "Helper", "tags": [], "success_metrics": [], "created_at": WHEN}
    before = model(**{**base, **old}, history_type="~")
    row = model(**{**base, **new}, history_type=history_type, history_id=2, id=1,
                history_date=WHEN)
    values = [getattr(row, attname) for attname in plan.attnames]
    head = {"history_id": 2, "id": 1, "history_date": WHEN, "history_type": history_type,
            "history_user_id": None, "history_change_reason": ""}
    as_tuple = (*[head[name] for name in drafting.HEAD], *values)
    before_tuple = (1, *[getattr(before, attname) for attname in plan.attnames])
    assert drafting._changes(plan, as_tuple, before_tuple) == ledger.changes_text(
        ledger.field_changes(row, before))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the batched lookup is "
                                                               "PostgreSQL's")
def test_a_batch_finds_each_rows_previous_version_as_a_lookup_per_row_does(agent):
    """Versions at the same moment, versions between the batch's that are not in it, and a
    first version before the batch: read around the batch, the answer is the same."""
    model = type(agent.history.first())
    values = {f.attname: getattr(agent.history.first(), f.attname)
              for f in model._meta.concrete_fields if f.attname != "history_id"}
    moments = [0, 1, 1, 1, 2, 3, 3, 5]  # seconds after WHEN, in order of history id
    rows = model.objects.bulk_create([
        model(**{**values, "id": record, "history_type": "~",
                 "history_date": WHEN + dt.timedelta(seconds=moment)})
        for record in (987_001, 987_002) for moment in moments])
    batch = [row.history_id for n, row in enumerate(rows) if n % 8 in (2, 3, 6, 7)]
    assert drafting._previous_nearby(model, batch) == drafting._previous_in_database(model,
                                                                                     batch)
