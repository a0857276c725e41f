"""What a ledger entry says, and the hash that binds it.

An entry's canonical content is the canonical JSON (core.hashing) of

    {"seq", "time", "actor": {"id", "name"}, "object": {"model", "pk", "repr"}, "agent",
     "action", "changes": [{"field", "old", "new"}], "reason",
     "source": {"model", "id"}, "prev_hash"}

and its hash is the SHA-256 of those bytes. "time" is the moment of the change in UTC
(ISO 8601 with microseconds and a "Z"); "source" names the history row the entry was made from,
so an entry cannot be repointed; "prev_hash" is the hash of the entry before it (64 zeros for
the first). The same content is what a JSON Lines export writes per line (plus "hash"), so a
file can be checked line by line without the portal. Everything here is pure: no queries.
"""

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models.fields.files import FieldFile

from ..core.hashing import canonical_json, content_hash
from .models import GENESIS_HASH, Action, LedgerEntry

HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type",
                  "history_user", "history_relation"}
ACTIONS = {"+": Action.CREATED, "~": Action.CHANGED, "-": Action.DELETED}
UNRECORDED_ACTOR = "(unrecorded)"
REPR_MAX = 200

# A CSV cell starting with one of these gets one "'" put in front, so that a spreadsheet shows
# it as text instead of running it as a formula; readers drop one leading "'" from every cell
# that starts with one. Hashes are over the content, never over the spreadsheet text.
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
CSV_BOM = "\ufeff"

CONTENT_KEYS = ("seq", "time", "actor", "object", "agent", "action", "changes", "reason",
                "source", "prev_hash")


def utc_iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def jsonable(value: Any) -> Any:
    """A field value as plain JSON, the same way every time."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        return utc_iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=canonical_json) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, FieldFile):  # its stored name (an empty one has no url to ask for)
        return value.name or None
    return str(value)


def changes_text(changes: list[dict]) -> str:
    return canonical_json(changes).decode("utf-8")


def content(*, seq: int, time: dt.datetime | str, actor_id: int | None, actor_name: str,
            object_model: str, object_pk: str, object_repr: str, agent_id: int | None,
            action: str, changes: list[dict] | str, reason: str, history_model: str,
            history_id: int, prev_hash: str) -> dict:
    if isinstance(changes, str):
        changes = json.loads(changes)
    return {
        "seq": int(seq),
        "time": time if isinstance(time, str) else utc_iso(time),
        "actor": {"id": actor_id, "name": actor_name},
        "object": {"model": object_model, "pk": str(object_pk), "repr": object_repr},
        "agent": agent_id,
        "action": str(action),
        "changes": changes,
        "reason": reason or "",
        "source": {"model": history_model, "id": int(history_id)},
        "prev_hash": prev_hash,
    }


def entry_content(entry: LedgerEntry) -> dict:
    """The canonical content, rebuilt from the stored columns."""
    return content(
        seq=entry.seq, time=entry.time, actor_id=entry.actor_id, actor_name=entry.actor_name,
        object_model=entry.object_model, object_pk=entry.object_pk,
        object_repr=entry.object_repr, agent_id=entry.agent_id, action=entry.action,
        changes=entry.changes, reason=entry.reason, history_model=entry.history_model,
        history_id=entry.history_id, prev_hash=entry.prev_hash)


def hash_of(entry_or_content: LedgerEntry | dict) -> str:
    data = (entry_or_content if isinstance(entry_or_content, dict)
            else entry_content(entry_or_content))
    return content_hash(data)


ENTRY_COLUMNS = ("seq", "time", "actor_id", "actor_name", "object_model", "object_pk",
                 "object_repr", "agent_id", "action", "changes", "reason", "history_model",
                 "history_id", "prev_hash", "hash")


# The content's keys on either side of "changes", in the sorted order canonical JSON writes.
_BEFORE_CHANGES = ("action", "actor", "agent")
_AFTER_CHANGES = ("object", "prev_hash", "reason", "seq", "source", "time")


def content_bytes(**columns) -> bytes:
    """canonical_json(content(**columns)), without parsing and writing again "changes" when
    it comes as text: that text is canonical JSON already (changes_text wrote it), so it is
    spliced between the members around it, as PostgreSQL does (audit.pgsql)."""
    changes = columns["changes"]
    if not isinstance(changes, str):
        return canonical_json(content(**columns))
    data = content(**{**columns, "changes": []})
    before = canonical_json({key: data[key] for key in _BEFORE_CHANGES})
    after = canonical_json({key: data[key] for key in _AFTER_CHANGES})
    return b"".join((before[:-1], b',"changes":', changes.encode("utf-8"), b",", after[1:]))


def chain(drafts: list[dict], *, after_seq: int, after_hash: str) -> list[dict]:
    """The column values (ENTRY_COLUMNS) of ledger entries for these drafts (column values
    without seq and hashes), numbered and chained after the given head."""
    rows, seq, prev = [], after_seq, after_hash or GENESIS_HASH
    for draft in drafts:
        seq += 1
        row = {**draft, "seq": seq, "prev_hash": prev}
        row["hash"] = prev = hashlib.sha256(content_bytes(**row)).hexdigest()
        rows.append(row)
    return rows


# --- From a history row to a draft entry ----------------------------------------------------

def tracked_fields(history_model) -> list:
    return [f for f in history_model._meta.concrete_fields
            if f.name not in HISTORY_FIELDS and f.name != "id"]


def _value(row, field) -> Any:
    return jsonable(getattr(row, field.attname))


def field_changes(row, previous) -> list[dict]:
    """[{field, old, new}] between a history row and the one before it for the same object."""
    fields = tracked_fields(type(row))
    action = ACTIONS[row.history_type]
    if action == Action.DELETED:
        return [{"field": f.name, "old": _value(row, f), "new": None} for f in fields]
    if previous is None:
        return [{"field": f.name, "old": None, "new": _value(row, f)} for f in fields]
    changes = []
    for f in fields:
        old, new = _value(previous, f), _value(row, f)
        if old != new:
            changes.append({"field": f.name, "old": old, "new": new})
    return changes


def instance_repr(instance, history_id: int) -> str:
    try:
        text = str(instance)
    except Exception:  # a repr that needs a row gone since: fall back to the key
        text = f"{instance._meta.verbose_name} {history_id}"
    return text[:REPR_MAX]
