from django import forms

from ..inventory.choices import Audience, AutonomyLevel, DataClassification, RegulatedDomain
from .models import CardKind, DocumentFormat

GUESS = ""


class ImportForm(forms.Form):
    document_format = forms.ChoiceField(
        label="Format", required=False,
        choices=[(GUESS, "Tell from the document"), *DocumentFormat.choices])
    file = forms.FileField(required=False, help_text="A JSON document (512 KiB at most).")
    url = forms.URLField(required=False, max_length=500, assume_scheme="https",
                         help_text="Or the URL it is served at.")
    business_unit = forms.CharField(max_length=120)
    intended_users = forms.CharField(max_length=2000, required=False,
                                     widget=forms.Textarea(attrs={"rows": 2}))
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.INTERNAL)
    autonomy_level = forms.ChoiceField(choices=AutonomyLevel.choices,
                                       initial=AutonomyLevel.HUMAN_APPROVES)
    data_classification = forms.ChoiceField(choices=DataClassification.choices,
                                            initial=DataClassification.INTERNAL)
    regulated_domain = forms.ChoiceField(choices=RegulatedDomain.choices,
                                         initial=RegulatedDomain.NONE)

    INTAKE_FIELDS = ("business_unit", "intended_users", "audience", "autonomy_level",
                     "data_classification", "regulated_domain")

    def clean(self):
        data = super().clean() or {}
        if bool(data.get("file")) == bool(data.get("url")):
            raise forms.ValidationError("Upload a file or give a URL (one of them).")
        return data

    def intake(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.INTAKE_FIELDS}


class ConfirmToolForm(forms.Form):
    tool = forms.CharField(max_length=120, widget=forms.HiddenInput)
    writes = forms.BooleanField(required=False, label="It writes")
    needs_human_approval = forms.BooleanField(required=False, label="A human approves each call")
    reason = forms.CharField(max_length=1000, required=False)


class WatchForm(forms.Form):
    kind = forms.ChoiceField(choices=CardKind.choices)
    url = forms.URLField(max_length=500, assume_scheme="https")


class CloseForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
