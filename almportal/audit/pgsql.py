"""SQL expressions that make PostgreSQL write a ledger entry's canonical text itself, byte for
byte what audit.ledger and core.hashing write in Python, so that exports and verification
stream rows with almost no Python per row.

Why it matches: PostgreSQL's to_json() of a text escapes exactly what Python's json.dumps with
ensure_ascii=False escapes (quote, backslash, \\b \\f \\n \\r \\t, other control characters as
\\u00xx, everything else as it is); keys are written in sorted order; numbers are integers; the
"changes" column is stored as canonical JSON already and is spliced in as it is. The tests
compare both writers on awkward values. Everything here is text: no queries.
"""

from collections.abc import Callable

from .ledger import CSV_FORMULA_STARTS

TIME = """to_char("time" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


class Sql(str):
    """An SQL expression among the pieces of an object (the other pieces are literal text)."""


def _text(column: str) -> list[str]:
    return [Sql(f'to_json("{column}")::text')]


def _quoted(column: str) -> list[str]:
    return ['"', Sql(f'"{column}"'), '"']


def _number(column: str) -> list[str]:
    return [Sql(f"""coalesce("{column}"::text, 'null')""")]


def _object(members: dict[str, list[str]]) -> list[str]:
    """The pieces of a JSON object whose members' pieces are given."""
    pieces = []
    for n, key in enumerate(sorted(members)):
        pieces += [f'{"," if n else "{"}"{key}":', *members[key]]
    return pieces + ["}"]


def _sql(pieces: list[str]) -> str:
    """The pieces concatenated, neighbouring literals joined first: fewer concatenations."""
    merged: list[str] = []
    for piece in pieces:
        if not isinstance(piece, Sql) and merged and not isinstance(merged[-1], Sql):
            merged[-1] += piece
        else:
            merged.append(piece)
    return "(" + " || ".join(p if isinstance(p, Sql) else "'" + p.replace("'", "''") + "'"
                             for p in merged) + ")"


def _content(text: Callable[[str], list[str]]) -> dict[str, list[str]]:
    """The content's members, with `text` writing each string column."""
    return {
        "seq": _number("seq"),
        "time": ['"', Sql(TIME), '"'],
        "actor": _object({"id": _number("actor_id"), "name": text("actor_name")}),
        "object": _object({"model": text("object_model"), "pk": text("object_pk"),
                           "repr": text("object_repr")}),
        "agent": _number("agent_id"),
        "action": text("action"),
        "changes": [Sql('"changes"')],
        "reason": text("reason"),
        "source": _object({"model": text("history_model"), "id": _number("history_id")}),
        "prev_hash": text("prev_hash"),
    }


CONTENT = _content(_text)

# What audit.ledger.content() makes of an entry, as UTF-8 bytes: what its hash is over.
CONTENT_BYTES = f"convert_to({_sql(_object(CONTENT))}, 'UTF8')"

# The same with each string written between quotes as it is, without to_json (most of the cost
# of CONTENT_BYTES): the very same bytes unless a string holds one of NEEDS_ESCAPING, which
# STRINGS_BYTES, all the strings one after the other, shows.
PLAIN_CONTENT_BYTES = f"convert_to({_sql(_object(_content(_quoted)))}, 'UTF8')"
STRINGS = ("action", "actor_name", "object_model", "object_pk", "object_repr", "prev_hash",
           "reason", "history_model")
STRINGS_BYTES = f"""convert_to({" || ".join(f'"{c}"' for c in STRINGS)}, 'UTF8')"""
NEEDS_ESCAPING = bytes(range(0x20)) + b'"\\'  # what JSON escapes (single bytes in UTF-8)

# Which strings of an entry may need escaping in JSON. to_json() is most of the cost of
# writing a line, and a string needs it only when it holds one of NEEDS_ESCAPING; one regular
# expression over an entry's free text says whether any does, and only then is the line
# written with to_json. The other strings are written by the portal from fixed alphabets
# (model labels, action codes, hex hashes). The bytes are the same either way.
CHECKED = ("actor_name", "object_pk", "object_repr", "reason")
NEEDS_ESCAPING_SQL = """'[\\x01-\\x1f"\\\\]'"""  # control characters, quote, backslash


def _line(text: Callable[[str], list[str]]) -> str:
    return _sql(_object({**_content(text), "hash": text("hash"), "type": ['"entry"']}))


# A JSON Lines export's line for an entry: its content, its hash and its type.
JSONL_LINE = (f"""CASE WHEN ({" || ".join(f'"{c}"' for c in CHECKED)}) ~ {NEEDS_ESCAPING_SQL} """
              f"THEN {_line(_text)} ELSE {_line(_quoted)} END")


def _csv_safe(column: str) -> str:
    starts = ", ".join("'" + c.replace("'", "''") + "'" for c in CSV_FORMULA_STARTS)
    return (f"""CASE WHEN left("{column}", 1) IN ({starts}) THEN '''' || "{column}" """
            f"""ELSE "{column}" END""")


# The cells of a CSV export's row for an entry, in the order of exports.CSV_COLUMNS. Only free
# text is made spreadsheet-safe: model labels and action codes start with a letter, "changes"
# with "[" (canonical JSON of a list), so the test would never change them and costs as much
# as the rest of the row.
CSV_CELLS = [
    "'entry'", '"seq"', TIME, '"actor_id"', _csv_safe("actor_name"), '"object_model"',
    _csv_safe("object_pk"), _csv_safe("object_repr"), '"agent_id"', '"action"', '"changes"',
    _csv_safe("reason"), '"history_model"', '"history_id"', '"prev_hash"', '"hash"']
