import json

import pytest

from almportal.accounts.services import system_user
from almportal.audit import ledger
from almportal.audit.models import GENESIS_HASH, LedgerEntry, LedgerHead
from almportal.audit.services import ledger_append, ledger_catch_up, missing_history_keys
from almportal.core.hashing import canonical_json, sha256_hex
from almportal.inventory import services as inventory
from almportal.inventory.models import Agent

from ..factories import intake_data

pytestmark = pytest.mark.django_db


def test_it_appends_each_history_row_on_commit(owner, ledgered):
    with ledgered():
        agent = inventory.agent_create(actor=owner, data=intake_data())
    entries = list(LedgerEntry.objects.filter(object_model="inventory.agent"))
    assert [(e.action, e.actor_id, e.actor_name, e.object_pk) for e in entries] == [
        ("created", owner.pk, owner.username, str(agent.pk))]
    assert entries[0].agent_id == agent.pk
    assert entries[0].reason == "Intake drafted"


def test_it_appends_nothing_before_commit(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        inventory.agent_create(actor=owner, data=intake_data())
        assert not LedgerEntry.objects.filter(object_model="inventory.agent").exists()
    assert callbacks


def test_it_records_field_changes_with_old_and_new(agent, ledgered):
    with ledgered():
        inventory.agent_update(actor=agent.business_owner, agent=agent,
                               data={"name": "Handbook helper", "tags": ["hr"]},
                               reason="Renamed")
    entry = LedgerEntry.objects.filter(object_model="inventory.agent").last()
    changes = {c["field"]: (c["old"], c["new"]) for c in json.loads(entry.changes)}
    assert changes == {"name": ("Internal FAQ assistant", "Handbook helper"),
                       "tags": ([], ["hr"])}
    assert (entry.action, entry.reason) == ("changed", "Renamed")


def test_it_files_grants_and_components_under_their_agent(agent, ledgered):
    ledger_catch_up()
    models = set(LedgerEntry.objects.filter(agent_id=agent.pk)
                 .values_list("object_model", flat=True))
    assert {"inventory.agent", "inventory.agentuserobjectpermission"} <= models


def test_it_chains_every_entry_to_the_one_before(agent, ledgered):
    with ledgered():
        inventory.agent_update(actor=agent.business_owner, agent=agent, data={"sponsor": "CFO"})
    ledger_catch_up()
    entries = list(LedgerEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    previous = GENESIS_HASH
    for entry in entries:
        assert entry.prev_hash == previous
        assert entry.hash == sha256_hex(canonical_json(ledger.entry_content(entry)))
        previous = entry.hash
    head = LedgerHead.objects.get()
    assert (head.seq, head.hash) == (entries[-1].seq, entries[-1].hash)


def test_it_appends_idempotently(agent):
    keys = [("inventory.historicalagent", h) for h in
            Agent.history.values_list("history_id", flat=True)]
    first = ledger_append(keys)
    assert first == len(keys)
    assert ledger_append(keys) == 0
    assert LedgerEntry.objects.filter(object_model="inventory.agent").count() == len(keys)


def test_it_catches_up_what_a_crash_left_out(agent):
    # No on-commit append ran in this test: as after a crash between commit and append.
    assert missing_history_keys()
    appended = ledger_catch_up()
    assert appended > 0
    assert missing_history_keys() == []
    assert ledger_catch_up() == 0


def test_it_names_the_system_actor(agent, ledgered):
    robot = system_user()
    with ledgered():
        inventory.agent_set_risk_tier(actor=robot, agent=agent, tier="high", reason="Assessed")
    entry = LedgerEntry.objects.filter(object_model="inventory.agent").last()
    assert (entry.actor_id, entry.actor_name) == (robot.pk, "system")


def test_it_ignores_rows_rolled_back_in_a_savepoint(owner, ledgered):
    from django.db import transaction

    with ledgered():
        with transaction.atomic():
            try:
                with transaction.atomic():
                    inventory.agent_create(actor=owner, data=intake_data(name="Gone"))
                    raise RuntimeError
            except RuntimeError:
                pass
            kept = inventory.agent_create(actor=owner, data=intake_data(name="Kept"))
    reprs = list(LedgerEntry.objects.filter(object_model="inventory.agent")
                 .values_list("object_repr", flat=True))
    assert reprs == ["Kept"]
    assert kept.pk


def test_an_empty_file_field_is_recorded_as_none():
    from django.db.models.fields.files import FieldFile

    from almportal.audit.ledger import jsonable
    from almportal.releases.models import Evidence

    empty = FieldFile(None, Evidence._meta.get_field("file"), "")
    assert jsonable(empty) is None
