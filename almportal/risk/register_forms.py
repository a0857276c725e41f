"""Parse what people enter on the register and impact assessment pages into the values
risk.register takes. Rules live in risk.rules; these only check shape."""

from django import forms

from ..accounts.models import User
from .choices import TreatmentKind, TreatmentStatus

SCALE = [(n, str(n)) for n in range(1, 6)]


def _people() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=User.objects.filter(is_active=True)
                                  .order_by("username"), required=False,
                                  to_field_name="username")


def _text(**kwargs) -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, **kwargs)


class ServiceForm(forms.Form):
    """A form whose cleaned data goes to a service as it is, with empty optional values left
    out (the service keeps what it has)."""

    def data_for_service(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items()
                if value not in (None, "") or self.fields[name].required}


class RiskEntryForm(ServiceForm):
    title = forms.CharField(max_length=200)
    description = _text(required=False)
    likelihood = forms.TypedChoiceField(choices=SCALE, coerce=int,
                                        help_text="1 (rare) to 5 (almost certain).")
    impact = forms.TypedChoiceField(choices=SCALE, coerce=int,
                                    help_text="1 (minor) to 5 (severe).")
    owner = _people()
    owner.help_text = "Who answers for the risk; the agent's business owner if left empty."


class TreatmentForm(ServiceForm):
    kind = forms.ChoiceField(choices=TreatmentKind.choices)
    description = _text()
    owner = _people()
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(choices=TreatmentStatus.choices)
    residual_likelihood = forms.TypedChoiceField(choices=SCALE, coerce=int)
    residual_impact = forms.TypedChoiceField(choices=SCALE, coerce=int)


class AcceptanceForm(forms.Form):
    statement = _text(help_text="What residual risk you accept, and why.")


class ImpactForm(ServiceForm):
    affected_people = _text(required=False)
    affected_groups = _text(required=False)
    fundamental_rights_risks = _text(required=False)
    mitigations = _text(required=False)
    oversight_measures = _text(required=False)

    def data_for_service(self) -> dict:
        return dict(self.cleaned_data)  # an emptied field is a change too
