"""Every history row of every tracked model is noted as it is written and appended to the ledger
once its transaction commits (see audit.services for the ordering), and nothing audited is
deleted: history rows never (an agent with a retention hold cannot be deleted either: the
hold's foreign key protects it)."""

import logging
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import pre_delete
from simple_history.signals import post_create_historical_record

from ..core.errors import Conflict

log = logging.getLogger(__name__)

_PENDING = "_audit_ledger_pending"


def _pending(alias: str) -> list:
    connection = connections[alias]
    if not hasattr(connection, _PENDING):
        setattr(connection, _PENDING, [])
    return getattr(connection, _PENDING)


def note_history_row(sender, history_instance, using=None, **kwargs) -> None:
    alias = using or DEFAULT_DB_ALIAS
    _pending(alias).append((sender._meta.label_lower, history_instance.history_id))
    # One callback per row, but the first to run after the commit appends them all, in order,
    # in one short transaction; the others find nothing left. (A callback registered inside a
    # savepoint that rolls back is dropped, so each row brings its own.)
    transaction.on_commit(partial(flush, alias), using=alias)


def flush(alias: str = DEFAULT_DB_ALIAS) -> None:
    from .services import ledger_append

    pending = _pending(alias)
    keys, pending[:] = list(pending), []
    if not keys:
        return
    try:
        ledger_append(keys)
    except Exception:
        # The change itself is committed; the periodic catch-up appends what failed here.
        log.exception("Could not append %d history rows to the audit ledger.", len(keys))


def refuse_deleting_history(sender, instance, **kwargs) -> None:
    raise Conflict("Audit history is never deleted.")


def connect() -> None:
    from .services import history_models

    post_create_historical_record.connect(note_history_row, dispatch_uid="audit-ledger")
    for model in history_models():
        pre_delete.connect(refuse_deleting_history, sender=model,
                           dispatch_uid=f"audit-keep-{model._meta.label_lower}")


def append_after_migrate(sender, using=DEFAULT_DB_ALIAS, verbosity: int = 1, **kwargs) -> None:
    """Migrations seed configuration (questionnaire, policies, clauses, environments, templates)
    with history rows but no ledger entries: append them as part of `migrate`, so ledger order
    stays time order instead of waiting for the periodic catch-up after later activity."""
    from .services import history_models, ledger_catch_up

    tables = set(connections[using].introspection.table_names())
    needed = {"audit_ledgerentry", "audit_ledgerhead"} | {
        m._meta.db_table for m in history_models()}
    if using != DEFAULT_DB_ALIAS or not needed <= tables:
        return  # a partial or backward migration: the catch-up appends them later
    try:
        appended = ledger_catch_up()
    except Conflict as refusal:  # a ledger that no longer matches its signed checkpoint
        log.error("%s", refusal.message)
        return
    if appended and verbosity:
        print(f"  Audit ledger: {appended} entries appended for seeded history.")
