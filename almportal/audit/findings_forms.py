from django import forms

from ..accounts.models import User
from ..core.forms import model_choice_field
from ..inventory.models import Agent
from .forms import DateInput
from .models import AuditKind, AuditState, FindingSeverity

PEOPLE = User.objects.filter(is_active=True, is_service_account=False).order_by("username")


class AuditPlanForm(forms.Form):
    kind = forms.ChoiceField(choices=AuditKind.choices)
    title = forms.CharField(max_length=200)
    scope = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    period_start = forms.DateField(widget=DateInput)
    period_end = forms.DateField(widget=DateInput)
    lead = forms.ModelChoiceField(queryset=PEOPLE, to_field_name="username",
                                  widget=forms.TextInput, help_text="Their username.")
    reason = forms.CharField(max_length=1000, required=False)


class MoveForm(forms.Form):
    state = forms.ChoiceField(choices=AuditState.choices)
    reason = forms.CharField(max_length=1000, required=False)


class FindingForm(forms.Form):
    severity = forms.ChoiceField(choices=FindingSeverity.choices)
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))
    clause = forms.CharField(max_length=100, required=False,
                             help_text="e.g. ISO/IEC 42001 8.4 or EU AI Act Art. 14")
    agent = forms.ModelChoiceField(queryset=Agent.objects.all(), to_field_name="slug",
                                   required=False, widget=forms.TextInput,
                                   help_text="The agent's slug, if the finding is about one.")

    def __init__(self, *args, agents=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if agents is not None:
            model_choice_field(self, "agent").queryset = agents


class ActionAssignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=PEOPLE, to_field_name="username",
                                   widget=forms.TextInput, help_text="Their username.")
    description = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(widget=DateInput, required=False)


class ActionRecordForm(forms.Form):
    action_taken = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.CharField(max_length=1000, help_text="A link or reference.")


class ActionVerifyForm(forms.Form):
    accepted = forms.TypedChoiceField(choices=[("1", "Closed: verified"),
                                               ("0", "Sent back: not yet effective")],
                                      coerce=lambda v: v == "1")
    note = forms.CharField(max_length=1000)
