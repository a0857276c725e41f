"""SQL expressions that make PostgreSQL write a ledger entry's canonical text itself, byte for
byte what audit.ledger and core.hashing write in Python, so that exports and verification
stream rows with almost no Python per row.

Why it matches: PostgreSQL's to_json() of a text escapes exactly what Python's json.dumps with
ensure_ascii=False escapes (quote, backslash, \\b \\f \\n \\r \\t, other control characters as
\\u00xx, everything else as it is); keys are written in sorted order; numbers are integers; the
"changes" column is stored as canonical JSON already and is spliced in as it is. The tests
compare both writers on awkward values. Everything here is text: no queries.
"""

from .ledger import CSV_FORMULA_STARTS

TIME = """to_char("time" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _text(column: str) -> str:
    return f'to_json("{column}")::text'


def _number(column: str) -> str:
    return f"""coalesce("{column}"::text, 'null')"""


def _object(members: dict[str, str]) -> str:
    """A JSON object from SQL expressions that each yield a member's JSON text."""
    parts = [f"""'{"," if n else "{"}"{key}":' || {members[key]}"""
             for n, key in enumerate(sorted(members))]
    return "(" + " || ".join(parts) + " || '}')"


CONTENT = {
    "seq": _number("seq"),
    "time": f"""'"' || {TIME} || '"'""",
    "actor": _object({"id": _number("actor_id"), "name": _text("actor_name")}),
    "object": _object({"model": _text("object_model"), "pk": _text("object_pk"),
                       "repr": _text("object_repr")}),
    "agent": _number("agent_id"),
    "action": _text("action"),
    "changes": '"changes"',
    "reason": _text("reason"),
    "source": _object({"model": _text("history_model"), "id": _number("history_id")}),
    "prev_hash": _text("prev_hash"),
}

# What audit.ledger.content() makes of an entry, as UTF-8 bytes: what its hash is over.
CONTENT_BYTES = f"convert_to({_object(CONTENT)}, 'UTF8')"

# A JSON Lines export's line for an entry: its content, its hash and its type.
JSONL_LINE = [_object({**CONTENT, "hash": _text("hash"), "type": """'"entry"'"""})]


def _csv_safe(column: str) -> str:
    starts = ", ".join("'" + c.replace("'", "''") + "'" for c in CSV_FORMULA_STARTS)
    return (f"""CASE WHEN left("{column}", 1) IN ({starts}) THEN '''' || "{column}" """
            f"""ELSE "{column}" END""")


# The cells of a CSV export's row for an entry, in the order of exports.CSV_COLUMNS.
CSV_CELLS = [
    "'entry'", '"seq"', TIME, '"actor_id"', _csv_safe("actor_name"), _csv_safe("object_model"),
    _csv_safe("object_pk"), _csv_safe("object_repr"), '"agent_id"', _csv_safe("action"),
    _csv_safe("changes"), _csv_safe("reason"), _csv_safe("history_model"), '"history_id"',
    '"prev_hash"', '"hash"']
