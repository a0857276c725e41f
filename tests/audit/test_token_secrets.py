import json
from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.accounts import services as accounts
from almportal.accounts.models import ApiToken
from almportal.audit.exports import jsonl_stream
from almportal.audit.ledger import entry_content
from almportal.audit.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_it_keeps_token_hashes_out_of_history_ledger_and_exports(owner, ledgered):
    with ledgered():
        token, key = accounts.token_create(actor=owner, name="ci", scopes=["read"],
                                           expires_at=timezone.now() + timedelta(days=1))
        accounts.token_revoke(actor=owner, token=token, reason="Rotated")
    secret_hash = ApiToken.objects.get(pk=token.pk).key_hash

    history = list(token.history.values())
    assert len(history) == 2 and all("key_hash" not in row for row in history)
    entries = LedgerEntry.objects.filter(object_model="accounts.apitoken")
    assert entries.count() == 2
    ledger_text = json.dumps([entry_content(entry) for entry in entries])
    assert "key_prefix" in ledger_text and "key_hash" not in ledger_text
    assert secret_hash not in ledger_text and key not in ledger_text
    export = b"".join(jsonl_stream(entries.order_by("seq"), export_id=0)).decode()
    assert token.key_prefix in export and secret_hash not in export
