"""Typed access to a form's fields, for forms that narrow a choice or a queryset per request."""

from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a model choice field")
    return field


# --- Filter widgets drawn without the template engine -----------------------------------------
# A list's filter form is drawn with every page of the list; Django's widget templates (one
# template per option) cost more than the rest of such a page. These write the same HTML
# directly. Flat choices only (no option groups).

def _value_attrs(widget: forms.Widget, name: str, attrs: dict | None) -> dict:
    final = widget.build_attrs(widget.attrs, attrs)
    final["name"] = name
    return final


class QuickInput(forms.TextInput):
    def render(self, name: str, value: Any, attrs: dict | None = None,
               renderer: Any = None) -> SafeString:
        final = {"type": self.input_type, **_value_attrs(self, name, attrs)}
        shown = self.format_value(value)
        if shown is not None:
            final["value"] = shown
        return format_html("<input{}>", flatatt(final))


class QuickDateInput(QuickInput):
    input_type = "date"


def _flat_choices(choices: Any) -> Any:
    """A model choice field's choices from one plain query (its iterator would open a
    server-side cursor: three round trips for a short list)."""
    if not isinstance(choices, ModelChoiceIterator):
        return choices
    field = choices.field
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    return empty + [(field.prepare_value(obj), field.label_from_instance(obj))
                    for obj in field.queryset or ()]


class QuickSelect(forms.Select):
    def render(self, name: str, value: Any, attrs: dict | None = None,
               renderer: Any = None) -> SafeString:
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join("", '<option value="{}"{}>{}</option>', (
            (v, mark_safe(" selected") if str(v) in chosen else "", label)  # noqa: S308
            for v, label in _flat_choices(self.choices)))
        return format_html("<select{}>{}</select>", flatatt(_value_attrs(self, name, attrs)),
                           options)


class Chips(forms.CheckboxSelectMultiple):
    """Checkboxes drawn as chips: every choice visible, chosen with one click each."""

    def render(self, name: str, value: Any, attrs: dict | None = None,
               renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        chosen = {str(v) for v in self.format_value(value)}
        prefix = final.get("id", name)
        items = format_html_join("", '<li><label for="{}_{}"><input type="checkbox" name="{}" '
                                     'value="{}" id="{}_{}"{}> {}</label></li>', (
            (prefix, n, name, v, prefix, n, mark_safe(" checked") if str(v) in chosen else "",
             label) for n, (v, label) in enumerate(self.choices)))
        return format_html('<ul class="chips" id="{}">{}</ul>', prefix, items)
