"""Parse what people choose into the values risk services take. Rules live in the services."""

from django import forms

from .choices import TIER_CHOICES
from .models import Questionnaire


class AssessmentForm(forms.Form):
    """One radio group per question of the assessment's questionnaire; assessors also choose
    the tier (empty: the computed one) and justify raising it."""

    tier = forms.ChoiceField(choices=[("", "The computed tier")] + TIER_CHOICES, required=False,
                             label="Tier", help_text="Raise the tier above the computed one "
                                                     "only with a justification.")
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                    max_length=4000)

    def __init__(self, *args, questionnaire: Questionnaire, can_complete: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.question_keys = []
        for question in questionnaire.questions.all():
            self.fields[question.key] = forms.ChoiceField(
                label=question.text, help_text=question.help_text, required=False,
                widget=forms.RadioSelect,
                choices=[(o.key, o.label) for o in question.options.all()])
            self.question_keys.append(question.key)
        if not can_complete:
            del self.fields["tier"], self.fields["justification"]
        else:
            self.order_fields(self.question_keys + ["tier", "justification"])

    def answers(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key in self.question_keys
                if self.cleaned_data.get(key)}

    def question_fields(self):
        return [self[key] for key in self.question_keys]


class TierForm(forms.Form):
    tier = forms.ChoiceField(choices=TIER_CHOICES)
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                    max_length=4000,
                                    help_text="Required when the tier is above the computed one.")
