"""Seeded configuration enters the ledger during `migrate`, not at the first catch-up after
later activity, so the ledger's order stays the order in which things happened."""

import pytest
from django.core.management import call_command

from almportal.audit.models import LedgerEntry
from almportal.audit.services import missing_history_keys
from almportal.operations.models import Environment

pytestmark = pytest.mark.django_db


def test_the_migrated_database_has_its_seeds_in_the_ledger():
    assert missing_history_keys() == []
    seeded = LedgerEntry.objects.filter(object_model="operations.environment")
    assert seeded.count() == Environment.objects.count() == 3
    assert {e.reason for e in seeded} == {"Seeded environments"}
    assert LedgerEntry.objects.filter(object_model__startswith="risk.").exists()


def test_a_migrate_appends_history_written_without_the_ledger(capsys):
    environment = Environment.objects.get(slug="staging")
    environment.name = "Pre-production"
    environment.save()  # inside the test's transaction: no commit, so no append yet
    call_command("migrate", verbosity=1)
    assert "1 entries appended" in capsys.readouterr().out
    assert missing_history_keys() == []
