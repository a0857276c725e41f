"""Sortable lists paged by keyset: a page is the rows after (or before) a cursor on (sort key,
primary key), so a page deep in a long list costs what the first one does (no OFFSET), and a
row added meanwhile does not shift the pages. Sorting by a column of choices follows the
order of its choices, not the alphabet of their stored codes."""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.http import QueryDict

SORT_KEY = "sort_key"


@dataclass(frozen=True)
class Sort:
    """A column of a list: the field it sorts by (none: it does not sort), and for a choice
    field its choices' order. A field that may be empty sorts by `fallback` where it is
    (a cursor cannot point between empty values)."""

    label: str
    field: str = ""
    order: tuple[str, ...] = ()
    fallback: str = ""


@dataclass
class Column:
    """A sortable column header: where it links and how it is sorted now."""

    label: str
    url: str = ""  # none: the column does not sort
    direction: str = ""  # "ascending", "descending" or "" (not the sorted column)


@dataclass
class KeysetPage:
    object_list: list
    count: int
    sort: str
    default_sort: str = ""  # the list's own order: a filter form carries any other sort along
    next_url: str = ""
    previous_url: str = ""
    columns: list[Column] = field(default_factory=list)  # the headers, in order


def _text(value: Any) -> str:
    """A time or date as ISO text to the microsecond (the database reads it back as one)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"A {type(value).__name__} cannot be a cursor")


def _encode(value: Any, pk: Any) -> str:
    text = json.dumps([value, pk], default=_text)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[Any, Any] | None:
    if not cursor:
        return None
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None  # a cursor that is not one of ours shows the first page
    return value, pk


def keyed(queryset: QuerySet, sort: Sort) -> QuerySet:
    """The queryset with its sort key (`SORT_KEY`) for this column."""
    if sort.fallback:
        return queryset.annotate(**{SORT_KEY: Coalesce(F(sort.field), F(sort.fallback))})
    if not sort.order:
        return queryset.annotate(**{SORT_KEY: F(sort.field)})
    ranks = [When(**{sort.field: code}, then=Value(n)) for n, code in enumerate(sort.order)]
    return queryset.annotate(**{SORT_KEY: Case(*ranks, default=Value(len(ranks)),
                                                output_field=IntegerField())})


def _after(value: Any, pk: Any, descending: bool) -> Q:
    op = "lt" if descending else "gt"
    return Q(**{f"{SORT_KEY}__{op}": value}) | Q(**{SORT_KEY: value, f"pk__{op}": pk})


def _link(query: QueryDict, **changes: str) -> str:
    link = query.copy()
    for name in ("after", "before"):
        link.pop(name, None)
    for name, value in changes.items():
        link[name] = value
    return "?" + link.urlencode()


def _columns(sorts: dict[str, Sort], query: QueryDict, sort: str) -> list[Column]:
    current, descending = sort.lstrip("-"), sort.startswith("-")
    columns = []
    for key, spec in sorts.items():
        if not spec.field:
            columns.append(Column(spec.label))
            continue
        toggled = f"-{key}" if key == current and not descending else key
        direction = ("descending" if descending else "ascending") if key == current else ""
        columns.append(Column(spec.label, _link(query, sort=toggled), direction))
    return columns


def chosen_sort(sorts: dict[str, Sort], sort: str | None) -> str | None:
    """`sort` if it names a sortable column of `sorts` ("-" before it for descending)."""
    if sort and sorts.get(sort.lstrip("-"), Sort("")).field and not sort.startswith("--"):
        return sort
    return None


def keyset_page(queryset: QuerySet, query: QueryDict, sorts: dict[str, Sort], *,
                size: int, default: str) -> KeysetPage:
    """One page of the queryset, sorted as `?sort=` asks (one of `sorts`, "-" for
    descending), after `?after=` or before `?before=` a cursor of a page's last or first row."""
    sort = chosen_sort(sorts, query.get("sort")) or default
    descending = sort.startswith("-")
    rows = keyed(queryset, sorts[sort.lstrip("-")])
    after, before = _decode(query.get("after")), _decode(query.get("before"))
    try:
        if after is not None:
            rows = rows.filter(_after(*after, descending))
        elif before is not None:
            rows = rows.filter(_after(*before, not descending))
    except (ValidationError, ValueError, TypeError):
        after = before = None  # a cursor edited to a value of another kind: the first page
    backwards = before is not None and after is None
    order = [SORT_KEY, "pk"] if descending == backwards else [f"-{SORT_KEY}", "-pk"]
    rows = rows.order_by(*order)
    found = list(rows[:size + 1])
    more, found = len(found) > size, found[:size]
    if backwards:
        found.reverse()
    # A first page that holds every row counts them itself (a search usually finds a few).
    whole = after is None and before is None and not more
    page = KeysetPage(found, len(found) if whole else queryset.count(), sort, default,
                      columns=_columns(sorts, query, sort))
    if found and (more or backwards):
        last = found[-1]
        page.next_url = _link(query, after=_encode(getattr(last, SORT_KEY), last.pk))
    if found and (after is not None or (backwards and more)):
        first = found[0]
        page.previous_url = _link(query, before=_encode(getattr(first, SORT_KEY), first.pk))
    return page
