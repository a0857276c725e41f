"""Ledger entries as people read them: record types, fields and choice codes by their labels,
lists as chips, long texts as a word diff. The ledger keeps the stored names (they are what
its hashes are over); only the pages translate them. No queries but one for the users a page
names (`user_names`)."""

import datetime as dt
import difflib
import html as html_text
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

from django.apps import apps
from django.db import models
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

from ..accounts.models import User
from .models import LedgerEntry

LONG_TEXT = 120  # a text longer than this (or with a line break) is shown as a word diff
NONE = "—"
# Keys whose value names a JSON item best, in order of preference.
_NAMING_KEYS = ("title", "name", "label", "key", "metric")


def _html(template: str, *args: Any) -> SafeString:
    """Django's format_html without its checks for lazy text, which the history page's seven
    hundred fragments paid a third of its time for. Each argument is escaped unless it is
    already safe, as conditional_escape does."""
    return mark_safe(template.format(*(  # noqa: S308 (every argument is escaped here)
        arg.__html__() if hasattr(arg, "__html__") else html_text.escape(str(arg))
        for arg in args)))


def _html_join(template: str, rows: Iterable[tuple]) -> SafeString:
    return mark_safe("".join(_html(template, *row) for row in rows))  # noqa: S308


def _subclasses(cls: type[models.TextChoices]) -> Iterable[type[models.TextChoices]]:
    sub: type[models.TextChoices]
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@cache
def choice_labels() -> dict[str, str]:
    """Every stored choice code of the project's choice tables and its label."""
    labels: dict[str, str] = {}
    for choices in _subclasses(models.TextChoices):
        if choices.__module__.startswith("almportal."):
            labels.update({str(value): str(label) for value, label in choices.choices})
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if f.choices:
                labels.update({str(value): str(label) for value, label in f.flatchoices
                               if isinstance(value, str) and value})
    return labels


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


@cache
def record_type_label(label: str) -> str:
    """"inventory.agent" as "Agent"; a record type no longer known as it is, humanised."""
    model = _model(label)
    if model is None:
        return capfirst(label.rsplit(".", 1)[-1].replace("_", " "))
    return capfirst(str(model._meta.verbose_name))


def humanise(name: str) -> str:
    return capfirst(name.replace("_", " ").strip())


@cache
def _field(label: str, name: str) -> models.Field | None:
    model = _model(label)
    try:
        found = model._meta.get_field(name) if model else None
    except Exception:  # a field since removed: shown by its humanised name
        return None
    return found if isinstance(found, models.Field) else None


def field_label(label: str, name: str) -> str:
    found = _field(label, name)
    return capfirst(str(found.verbose_name)) if found else humanise(name)


@dataclass
class Value:
    """One side of a change: a plain text, chips (a list), or nothing."""

    text: str = ""
    chips: list[str] = field(default_factory=list)
    is_list: bool = False

    def html(self) -> SafeString:
        if not self.is_list:
            return _html("{}", self.text)
        if not self.chips:
            return _html("{}", NONE)
        return _html('<ul class="chips">{}</ul>',
                     _html_join('<li class="chip">{}</li>', ((chip,) for chip in self.chips)))


@dataclass
class FieldDiff:
    label: str
    old: Value
    new: Value
    diff: SafeString | None = None  # a word diff, for long texts

    def cells(self) -> SafeString:
        if self.diff is not None:
            return _html('<td colspan="2" class="word-diff">{}</td>', self.diff)
        return _html("<td>{}</td><td>{}</td>", self.old.html(), self.new.html())


def _plain(value: Any) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _scalar(value: Any) -> str:
    """A value inside a list or an object: a choice code there (a checklist item's pillar, a
    sign-off role) is shown by its label."""
    if isinstance(value, str) and value in choice_labels():
        return choice_labels()[value]
    return _plain(value)


def _item(value: Any) -> str:
    """A list item as one chip: a JSON object by its name, with what else it says."""
    if not isinstance(value, dict):
        return ", ".join(_item(v) for v in value) if isinstance(value, list) else _scalar(value)
    name = next((value[k] for k in _NAMING_KEYS if value.get(k) not in (None, "")), None)
    rest = [f"{humanise(str(k))}: {_item(v)}" for k, v in value.items()
            if k not in _NAMING_KEYS and k != "clauses" and v not in (None, "", [], {})]
    if name is None:
        return "; ".join(rest) or NONE
    if "target" in value and len(rest) == 1:
        return f"{_scalar(name)}: {_item(value['target'])}"
    return _scalar(name)


def _value(f: models.Field | None, value: Any, users: dict[int, str]) -> Value:
    if isinstance(value, list):
        return Value(chips=[_item(v) for v in value], is_list=True)
    if isinstance(value, dict):
        return Value(chips=[f"{_scalar(humanise(str(k)))}: {_item(v)}"
                            for k, v in value.items()], is_list=True)
    if f is not None and f.is_relation and value is not None:
        if f.related_model is User:
            return Value(users.get(value, f"user #{value}"))
        related = cast(type[models.Model], f.related_model)
        return Value(f"{capfirst(str(related._meta.verbose_name))} #{value}")
    if f is not None and f.choices and value not in (None, ""):
        return Value(str(dict(f.flatchoices).get(value, choice_labels().get(value, value))))
    return Value(_plain(value))


def _is_long(value: Any) -> bool:
    return isinstance(value, str) and (len(value) > LONG_TEXT or "\n" in value)


def word_diff(old: str, new: str) -> SafeString:
    """The new text with what was removed struck through and what was added marked."""
    a, b = old.split(" "), new.split(" ")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            out.append(f"<del>{escape(' '.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{escape(' '.join(b[j1:j2]))}</ins>")
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
    return mark_safe(" ".join(out))  # noqa: S308 (every piece is escaped above)


def field_diffs(entry: LedgerEntry, changes: list[dict], users: dict[int, str]
                ) -> list[FieldDiff]:
    diffs = []
    for change in changes:
        name, old, new = change.get("field", ""), change.get("old"), change.get("new")
        f = _field(entry.object_model, name)
        long = (_is_long(old) or _is_long(new)) and entry.action == "changed"
        diffs.append(FieldDiff(
            label=field_label(entry.object_model, name),
            old=_value(f, old, users), new=_value(f, new, users),
            diff=word_diff(old or "", new or "") if long else None))
    return diffs


@cache
def user_fields(label: str) -> frozenset[str]:
    model = _model(label)
    if model is None:
        return frozenset()
    return frozenset(f.name for f in model._meta.concrete_fields
                     if f.is_relation and f.related_model is User)


def user_names(pairs: Iterable[tuple[LedgerEntry, list[dict]]]) -> dict[int, str]:
    """The names of the users the changes on a page point to, in one query."""
    ids: set[int] = set()
    for entry, changes in pairs:
        named = user_fields(entry.object_model)
        for change in changes:
            if change.get("field") in named:
                ids |= {v for v in (change.get("old"), change.get("new")) if isinstance(v, int)}
    if not ids:
        return {}
    return {pk: str(user) for pk, user in User.objects.in_bulk(ids).items()}


@dataclass
class Row:
    entry: LedgerEntry
    record_type: str
    diffs: list[FieldDiff]
    url: str = ""

    @property
    def summary(self) -> str:
        labels = [d.label for d in self.diffs]
        shown = ", ".join(labels[:3])
        return shown + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")

    def changes_html(self) -> SafeString:
        """The per-field table, written here rather than by the template engine: the history
        page draws one per entry, and templates cost more than the rest of the page."""
        if not self.diffs:
            return _html('<p class="muted">{}</p>', "No field changed.")
        return _html(
            '<table class="compact diff-table"><thead><tr><th scope="col">Field</th>'
            '<th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>{}</tbody>'
            "</table>", _html_join('<tr><th scope="row">{}</th>{}</tr>', (
                (d.label, d.cells()) for d in self.diffs)))


    def html(self) -> SafeString:
        """The row of the history table (written here for the reason given above)."""
        entry = self.entry
        changes = (_html('<details class="diff"><summary>{}</summary>{}</details>',
                         self.summary, self.changes_html()) if self.diffs
                   else _html('<span class="muted">{}</span>', "No field changed"))
        return _html(
            '<tr><td><a href="{}">#{}</a></td><td class="nowrap">{}</td><td>{}</td>'
            '<td><span class="badge">{}</span></td><td><span class="muted">{}</span> {}</td>'
            "<td>{}</td><td>{}</td></tr>",
            self.url, entry.seq, entry.time.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor_name, entry.get_action_display(), self.record_type, entry.object_repr,
            changes, entry.reason or NONE)


def history_rows(pairs: list[tuple[LedgerEntry, list[dict]]], url_prefix: str = ""
                 ) -> list[Row]:
    users = user_names(pairs)
    return [Row(entry, record_type_label(entry.object_model), field_diffs(entry, changes, users),
                f"{url_prefix}{entry.seq}/") for entry, changes in pairs]
