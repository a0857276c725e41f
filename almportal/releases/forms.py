from typing import TYPE_CHECKING

from django import forms

from ..accounts.models import User
from ..accounts.roles import Role
from ..core.forms import choice_field, model_choice_field
from .choices import METRICS, Decision, EvidenceKind, ItemStatus

if TYPE_CHECKING:  # imported inside the methods at run time; named here for the field types
    from .models import EvaluationRun, EvaluationSuite, Evidence


def _people():
    return User.objects.filter(is_active=True, is_service_account=False).order_by("username")


class SignOffForm(forms.Form):
    """Shown with the roles the person may sign now (releases.rules.signing_options); a post
    of any other role reaches the service, which refuses it with the rule's words."""

    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role if r != Role.AUDITOR])
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="Required when you reject: say what must change.")

    def __init__(self, *args, roles: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if roles is not None:
            choice_field(self, "role").choices = [(r, Role(r).label) for r in roles]
            self.fields["role"].initial = roles[0] if len(roles) == 1 else None


class ItemAssignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=_people(), required=False)
    reviewer = forms.ModelChoiceField(queryset=_people(), required=False,
                                      help_text="Someone independent of the release.")

    def __init__(self, *args, not_reviewers: frozenset[int] = frozenset(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:  # a posted choice reaches the service, which says why not
            model_choice_field(self, "reviewer").queryset = _people().exclude(pk__in=not_reviewers)


class ItemStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ItemStatus.choices)
    comment = forms.CharField(required=False, max_length=1000)


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=EvidenceKind.choices, widget=forms.RadioSelect,
                             initial=EvidenceKind.FILE)
    file = forms.FileField(required=False, help_text="PDF, PNG, JPEG, text, CSV, JSON or "
                                                     "Markdown.")
    url = forms.URLField(required=False, max_length=1000, assume_scheme="https")
    evaluation_run: "forms.ModelChoiceField[EvaluationRun]" = forms.ModelChoiceField(
        queryset=None, required=False)
    effective_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text="The date the evidence speaks for (default today).")
    note = forms.CharField(required=False, max_length=1000)
    replaces: "forms.ModelChoiceField[Evidence]" = forms.ModelChoiceField(
        queryset=None, required=False, help_text="The evidence this replaces, if any.")

    def __init__(self, *args, item=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import EvaluationRun, Evidence

        runs, evidence = EvaluationRun.objects.none(), Evidence.objects.none()
        if item is not None:
            runs = EvaluationRun.objects.filter(release_id=item.release_id).select_related("suite")
            evidence = Evidence.objects.filter(item=item, replaced_at__isnull=True)
        model_choice_field(self, "evaluation_run").queryset = runs
        model_choice_field(self, "replaces").queryset = evidence


class SuiteForm(forms.Form):
    name = forms.CharField(max_length=120)
    dataset_ref = forms.CharField(label="Dataset reference", max_length=300)
    dataset_version = forms.CharField(max_length=80)
    metrics = forms.MultipleChoiceField(choices=[(k, m.label) for k, m in METRICS.items()],
                                        widget=forms.CheckboxSelectMultiple)


class RunForm(forms.Form):
    suite: "forms.ModelChoiceField[EvaluationSuite]" = forms.ModelChoiceField(queryset=None)
    notes = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, agent=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import EvaluationSuite

        model_choice_field(self, "suite").queryset = EvaluationSuite.objects.filter(agent=agent)
        for key, metric in METRICS.items():
            self.fields[key] = forms.FloatField(label=metric.label, required=False, min_value=0)

    def metrics(self) -> dict:
        return {k: self.cleaned_data[k] for k in METRICS if self.cleaned_data.get(k) is not None}
