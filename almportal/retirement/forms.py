from django import forms

from ..accounts.models import User
from ..core.forms import model_choice_field
from .choices import SignOffRole


def _people():
    return User.objects.filter(is_active=True, is_service_account=False).order_by("username")


class StartForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Why the agent is retired.")
    planned_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}),
                                   help_text="When it is to be retired.")
    retention_until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Keep logs and evidence until (blank: the default retention).")
    contact_users = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False,
        help_text="People to tell, besides the owner, technical owner and delegates.")
    contact_emails = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Further email addresses to tell, one per line.")
    dependents = forms.CharField(max_length=4000, required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text="Dependent agents and systems.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "contact_users").queryset = _people()


class CompleteForm(forms.Form):
    comment = forms.CharField(max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    evidence_url = forms.URLField(max_length=500, required=False, assume_scheme="https")
    evidence_sha256 = forms.CharField(max_length=64, required=False, label="Evidence SHA-256")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none())
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "assignee").queryset = _people()


class RunForm(forms.Form):
    """An automatic task takes no input: the portal does the work."""


class SignOffForm(forms.Form):
    role = forms.ChoiceField(choices=SignOffRole.choices)
    comment = forms.CharField(max_length=2000, required=False)


class RetireForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)


class HoldForm(forms.Form):
    reason = forms.CharField(max_length=2000)
    retain_until = forms.DateField(required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    legal_hold = forms.BooleanField(required=False)
