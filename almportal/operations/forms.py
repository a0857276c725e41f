from typing import Any

from django import forms

from ..accounts.models import User
from ..core.forms import model_choice_field
from ..inventory.models import Agent
from ..releases.choices import ReleaseState
from ..releases.models import Release
from .choices import (
    CANARY_STEPS,
    IncidentStatus,
    OversightRole,
    SeriousKind,
    Severity,
    Strategy,
    ThresholdMetric,
)
from .models import Environment

RAINBOW_ROWS = 4
# The direction each overridable threshold takes.
OVERRIDES = [
    (ThresholdMetric.ERROR_RATE, "max"),
    (ThresholdMetric.LATENCY_P95_MS, "max"),
    (ThresholdMetric.TOOL_CALL_FAILURE_RATE, "max"),
    (ThresholdMetric.ESCALATION_RATE, "max"),
    (ThresholdMetric.SATISFACTION, "min"),
]


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.TextInput)


def _releases(agent: Agent):
    return agent.releases.exclude(state__in=[ReleaseState.DRAFT, ReleaseState.VOIDED,
                                             ReleaseState.REJECTED]).order_by("-number")


class ReleaseChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Release) -> str:
        return f"{obj.display_version} ({obj.get_state_display().lower()})"


class DeployForm(ReasonForm):
    environment = forms.ModelChoiceField(queryset=Environment.objects.all(), empty_label=None)
    strategy = forms.ChoiceField(choices=Strategy.choices)
    release = ReleaseChoice(queryset=Release.objects.none(), required=False,
                            help_text="All at once or canary: the release to deploy.")
    canary_weight = forms.TypedChoiceField(
        choices=[(w, f"{w}%") for w in CANARY_STEPS[:-1]], coerce=int, required=False,
        label="Canary share", help_text="Canary: the share of traffic the new release starts at.")

    field_order = ["environment", "strategy", "release", "canary_weight"]

    def __init__(self, *args, agent: Agent, **kwargs):
        super().__init__(*args, **kwargs)
        releases = _releases(agent)
        model_choice_field(self, "release").queryset = releases
        for n in range(1, RAINBOW_ROWS + 1):
            self.fields[f"audience_{n}"] = forms.CharField(
                max_length=80, required=False, label=f"Audience {n}",
                help_text="Rainbow: a department or user group." if n == 1 else "")
            self.fields[f"release_{n}"] = ReleaseChoice(queryset=releases, required=False,
                                                         label=f"Release for audience {n}")
        self.order_fields([*self.field_order,
                           *(f"{k}_{n}" for n in range(1, RAINBOW_ROWS + 1)
                             for k in ("audience", "release")), "reason"])

    def rainbow_rows(self) -> list[tuple[Release, str]]:
        data = self.cleaned_data
        return [(data[f"release_{n}"], data[f"audience_{n}"])
                for n in range(1, RAINBOW_ROWS + 1)
                if data.get(f"release_{n}") or data.get(f"audience_{n}")]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        strategy = data.get("strategy")
        if strategy in (Strategy.ALL_AT_ONCE, Strategy.CANARY) and not data.get("release"):
            self.add_error("release", "Choose the release to deploy.")
        if strategy == Strategy.RAINBOW and any(r is None for r, _ in self.rainbow_rows()):
            self.add_error("release_1", "Choose a release for every audience.")
        return data


class StepForm(ReasonForm):
    weight = forms.TypedChoiceField(choices=[(w, f"{w}%") for w in CANARY_STEPS], coerce=int)


class SuspendForm(ReasonForm):
    drill = forms.BooleanField(required=False)


class MonitoringForm(ReasonForm):
    daily_budget = forms.FloatField(required=False, min_value=0)
    monthly_budget = forms.FloatField(required=False, min_value=0)
    auto_rollback = forms.BooleanField(required=False, label="Roll a breaching canary back")
    suspend_on_budget = forms.BooleanField(required=False,
                                           label="Suspend the agent when its budget is exhausted")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for metric, direction in OVERRIDES:
            word = "at most" if direction == "max" else "at least"
            self.fields[f"{metric}"] = forms.FloatField(
                required=False, min_value=0, label=f"{metric.label}: {word}",
                help_text="Empty: the tier policy's threshold.")
        self.order_fields([m for m, _ in OVERRIDES] + ["daily_budget", "monthly_budget",
                                                        "auto_rollback", "suspend_on_budget",
                                                        "reason"])

    @staticmethod
    def initial_from(settings) -> dict:
        if settings is None:
            return {}
        initial: dict[str, Any] = {m: (settings.thresholds.get(m) or {}).get(d)
                                   for m, d in OVERRIDES}
        initial.update(daily_budget=settings.daily_budget, monthly_budget=settings.monthly_budget,
                       auto_rollback=settings.auto_rollback,
                       suspend_on_budget=settings.suspend_on_budget)
        return initial

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "thresholds": {m: {d: data[m]} for m, d in OVERRIDES if data.get(m) is not None},
            "daily_budget": data.get("daily_budget"), "monthly_budget": data.get("monthly_budget"),
            "auto_rollback": data.get("auto_rollback"),
            "suspend_on_budget": data.get("suspend_on_budget"),
        }


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Severity.choices)
    description = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea)
    affected_release = ReleaseChoice(queryset=Release.objects.none(), required=False)

    def __init__(self, *args, agent: Agent, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "affected_release").queryset = _releases(agent)


class StatusForm(ReasonForm):
    status = forms.ChoiceField(choices=IncidentStatus.choices)


class NoteForm(forms.Form):
    text = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.Form):
    review = forms.CharField(max_length=20_000, required=False, label="Post-incident review",
                             widget=forms.Textarea(attrs={"rows": 6}))
    corrective_release = ReleaseChoice(queryset=Release.objects.none(), required=False)

    def __init__(self, *args, agent: Agent, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "corrective_release").queryset = agent.releases.order_by("-number")


class SeriousForm(ReasonForm):
    kind = forms.ChoiceField(choices=SeriousKind.choices, label="Kind of serious incident")
    aware_at = forms.DateTimeField(required=False, label="Became aware at",
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                   help_text="Empty: now.")


class ClaimForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(),
                                   help_text="Who completes the intake.")
    reason = forms.CharField(max_length=1000, widget=forms.TextInput)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "owner").queryset = owners


class TelemetryNameForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="A service.name or gen_ai.agent.name.")


class _Date(forms.DateInput):
    input_type = "date"


class OverseerForm(forms.Form):
    """Name an overseer with their training record (EU AI Act Art. 14, 26(2))."""

    user = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="username",
                                  widget=forms.TextInput, help_text="Their username.")
    role = forms.ChoiceField(choices=OversightRole.choices)
    training = forms.CharField(max_length=200, label="Course or qualification")
    trained_on = forms.DateField(widget=_Date, label="Completed on")
    training_expires_on = forms.DateField(widget=_Date, required=False, label="Expires on")
    evidence_url = forms.URLField(max_length=500, required=False, label="Evidence link",
                                  assume_scheme="https")
    active_from = forms.DateField(widget=_Date, required=False)
    active_to = forms.DateField(widget=_Date, required=False)
    reason = forms.CharField(max_length=1000, required=False, widget=forms.TextInput)

    def __init__(self, *args, people=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "user").queryset = people
