from datetime import datetime, time, timedelta
from functools import cache
from typing import Any

from django import forms
from django.utils import timezone

from ..accounts.models import User
from ..core.forms import (
    QuickDateInput,
    QuickInput,
    QuickSelect,
    choice_field,
    model_choice_field,
)
from ..inventory.models import Agent
from .display import record_type_label
from .models import Action
from .selectors import LedgerFilters, audit_agents, ledger_record_types


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class DateInput(forms.DateInput):
    input_type = "date"


def _start_of(day) -> datetime | None:
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None


@cache
def record_type_choices() -> list[tuple[str, str]]:
    """Every record type by its label (the set of models is fixed while the portal runs)."""
    return [("", "any")] + sorted(
        ((label, record_type_label(label)) for label in ledger_record_types()),
        key=lambda choice: choice[1])


class HistoryFilterForm(forms.Form):
    """The filters of the history browser, the exports and the API, all in one place."""

    # Typed, not picked from a list: a portal with thousands of agents would render them all.
    agent = forms.ModelChoiceField(queryset=Agent.objects.none(), required=False,
                                   to_field_name="slug", widget=QuickInput,
                                   help_text="The agent's slug.")
    record_type = forms.ChoiceField(required=False, widget=QuickSelect)
    user = forms.ModelChoiceField(queryset=User.objects.order_by("username"), required=False,
                                  to_field_name="username", widget=QuickInput,
                                  help_text="A username.")
    start = forms.DateField(required=False, widget=QuickDateInput,
                            help_text="From this day (UTC).")
    end = forms.DateField(required=False, widget=QuickDateInput,
                          help_text="Up to this day, inclusive.")
    action = forms.ChoiceField(required=False, choices=[("", "any"), *Action.choices],
                               widget=QuickSelect)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "agent").queryset = audit_agents(user)
        choice_field(self, "record_type").choices = record_type_choices()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end comes before the start.")
        return data

    def filters(self) -> LedgerFilters:
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end")
        return LedgerFilters(
            agent=data.get("agent"), object_model=data.get("record_type") or "",
            actor=data.get("user"), start=_start_of(data.get("start")),
            end=_start_of(end + timedelta(days=1)) if end else None,
            action=data.get("action") or "")


class AsOfForm(forms.Form):
    at = forms.DateTimeField(label="As of", widget=DateTimeInput,
                             input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                                            "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S",
                                            "%Y-%m-%d %H:%M"])


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, widget=DateInput)
    end = forms.DateField(required=False, widget=DateInput, help_text="Inclusive.")

    def period(self) -> tuple[datetime | None, datetime | None]:
        data = self.cleaned_data
        end = data.get("end")
        return _start_of(data.get("start")), _start_of(end + timedelta(days=1)) if end else None


class RetentionHoldForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    retain_until = forms.DateField(required=False, widget=DateInput)
    legal_hold = forms.BooleanField(required=False)


class ReleaseHoldForm(forms.Form):
    reason = forms.CharField(max_length=2000,
                             error_messages={"required": "Say why the hold is released."})


class VerifyFileForm(forms.Form):
    file = forms.FileField(help_text="A CSV or JSON Lines export, or an evidence pack (.zip).")
