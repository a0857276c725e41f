import json
from typing import TYPE_CHECKING

from django import forms

from ..accounts.models import User
from ..accounts.roles import Role
from ..core.forms import choice_field, model_choice_field
from ..inventory.forms import KIND_LABELS
from ..inventory.models import COMPONENT_MODELS
from . import rules
from .choices import METRICS, Decision, EvidenceKind, ItemStatus
from .diff import comparison_refusal
from .metric_input import MetricField

if TYPE_CHECKING:  # imported inside the methods at run time; named here for the field types
    from .models import ChecklistItem, EvaluationRun, Evidence


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

    def __init__(self, *args, reviewers=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if reviewers is not None:  # offered: those eligible; a post reaches the service
            model_choice_field(self, "reviewer").queryset = _people().filter(
                pk__in=[p.pk for p in reviewers])


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

    def __init__(self, *args, policy=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        required = list(policy.evaluation_thresholds) if policy else []
        if required and not self.is_bound:
            self.fields["metrics"].initial = required
            self.fields["metrics"].help_text = (
                f"Pre-selected: the {len(required)} metrics the {policy.tier} tier sets "
                "thresholds on; the gate needs each of them measured.")


def threshold_text(key: str, policy) -> str:
    """The tier's threshold on a metric, as a person reads it."""
    bound = (policy.evaluation_thresholds if policy else {}).get(key, {})
    parts = [f"at least {bound['min']:g}" if "min" in bound else "",
             f"at most {bound['max']:g}" if "max" in bound else ""]
    said = " and ".join(p for p in parts if p)
    return f"The {policy.tier} tier requires {said}." if said else "No threshold in this tier."


class RunForm(forms.Form):
    """A run of one suite: a field for each metric it measures, with the tier's threshold and
    the unit; rates take percentages (releases.metric_input)."""

    notes = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, suite, policy=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.suite = suite
        notes = self.fields.pop("notes")
        for key in suite.metrics:
            if key in METRICS:
                metric = METRICS[key]
                self.fields[key] = MetricField(metric, label=metric.label, help_text=(
                    f"{threshold_text(key, policy)} Enter {metric.unit}."))
        self.fields["notes"] = notes

    def metrics(self) -> dict:
        return {k: v for k in self.suite.metrics
                if (v := self.cleaned_data.get(k)) is not None}


# --- Releases ---------------------------------------------------------------------------

class ReleaseForm(forms.Form):
    """Label, notes, configuration, and one version (or none) of each named component."""

    label = forms.CharField(max_length=40, required=False, help_text="e.g. 1.4.0")
    notes = forms.CharField(max_length=4000, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
    configuration = forms.CharField(
        required=False, max_length=20_000, initial="{}",
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
        help_text='A JSON object: token and budget limits, rate limits, guardrails, '
                  'e.g. {"max_tokens": 4000}.')

    def __init__(self, *args, components: dict[str, list],
                 chosen: dict[str, set[int]] | None = None, base=None, **kwargs):
        """`chosen`: the versions picked (by kind); `base`: the release they come from, when
        a new release starts from one (its newer versions are then pointed out)."""
        super().__init__(*args, **kwargs)
        self.component_fields: list[tuple[str, str, str]] = []  # (kind, name, field name)
        self.base = base
        chosen = chosen or {}
        for kind, versions in components.items():
            by_name: dict[str, list] = {}
            for component in versions:
                if not getattr(component, "is_revoked", False):
                    by_name.setdefault(component.name, []).append(component)
            for index, (name, group) in enumerate(sorted(by_name.items())):
                field_name = f"{kind}-{index}"
                self.fields[field_name] = self._component_field(name, group, chosen.get(kind, ()))
                self.component_fields.append((kind, name, field_name))

    def _component_field(self, name: str, group: list, chosen) -> forms.TypedChoiceField:
        """One component's versions (newest first); the newest marked when a newer version
        than the base release's is available."""
        picked = next((c for c in group if c.pk in chosen), None)
        newer = self.base is not None and picked is not None and group[0] is not picked

        def label(c) -> str:
            mark = " · newer version available" if newer and c is group[0] else ""
            return f"v{c.version}" + (f" · {c.notes}" if c.notes else "") + mark

        help_text = ""
        if newer and picked is not None:
            help_text = (f"Release {self.base.display_version} used v{picked.version}; "
                         f"v{group[0].version} is newer.")
        elif self.base is not None and picked is None:
            help_text = f"Not in release {self.base.display_version}."
        return forms.TypedChoiceField(
            label=name, required=False, coerce=int, empty_value=None,
            initial=picked.pk if picked else "", help_text=help_text,
            choices=[("", "— not included —")] + [(c.pk, label(c)) for c in group])

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.component_fields and not any(
                data.get(f) for _k, _n, f in self.component_fields if not self.has_error(f)):
            raise forms.ValidationError("Choose the components of the release: an empty "
                                        "release cannot be submitted.", code="empty")
        refusal = rules.content_refusal(self.components()) if not self.errors else None
        if refusal:
            raise forms.ValidationError(f"{refusal} Choose a version of one.", code="no_model")
        return data

    def clean_configuration(self):
        text = self.cleaned_data["configuration"].strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                "Not valid JSON (line %(line)s, column %(col)s): %(msg)s.", code="json",
                params={"line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The configuration must be a JSON object: {…}.",
                                        code="json_object")
        return value

    def component_groups(self) -> list[tuple[str, list]]:
        """(kind label, bound fields) for the template."""
        groups: dict[str, list] = {}
        for kind, _name, field_name in self.component_fields:
            groups.setdefault(kind, []).append(self[field_name])
        return [(KIND_LABELS[kind], fields) for kind, fields in groups.items()]

    def components(self) -> dict[str, list[int]]:
        picked: dict[str, list[int]] = {kind: [] for kind in COMPONENT_MODELS}
        for kind, _name, field_name in self.component_fields:
            if self.cleaned_data.get(field_name):
                picked[kind].append(self.cleaned_data[field_name])
        return picked


class ReleaseCompareForm(forms.Form):
    old = forms.TypedChoiceField(label="From release", coerce=int)
    new = forms.TypedChoiceField(label="To release", coerce=int)

    def __init__(self, *args, releases, **kwargs):
        super().__init__(*args, **kwargs)
        self.releases = {release.number: release for release in releases}
        choices = [(r.number, f"{r.display_version} ({r.get_state_display().lower()})")
                   for r in releases]
        choice_field(self, "old").choices = choice_field(self, "new").choices = choices

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if "old" in data and "new" in data:
            data["old"], data["new"] = self.releases[data["old"]], self.releases[data["new"]]
            refusal = comparison_refusal(data["old"], data["new"])
            if refusal:
                raise forms.ValidationError(refusal)
        return data


class ChecklistBulkForm(forms.Form):
    """One action on the chosen items of a release's checklist (the button pressed names it)."""

    items: "forms.ModelMultipleChoiceField[ChecklistItem]" = forms.ModelMultipleChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one checklist item."})
    action = forms.ChoiceField(choices=[("assign", "Name owner or reviewer"),
                                        ("evidence", "Attach evidence"),
                                        ("status", "Change status")],
                               error_messages={"required": "Choose what to do."})
    owner = forms.ModelChoiceField(queryset=_people(), required=False)
    reviewer = forms.ModelChoiceField(queryset=_people(), required=False,
                                      help_text="Only people independent of the release.")
    url = forms.URLField(label="Link", required=False, max_length=1000, assume_scheme="https")
    file = forms.FileField(required=False, help_text="PDF, PNG, JPEG, text, CSV, JSON or "
                                                     "Markdown.")
    status = forms.ChoiceField(label="Move to", required=False,
                               choices=[("", "—"), *ItemStatus.choices])
    reason = forms.CharField(required=False, max_length=1000,
                             help_text="Kept in each item's history; required to send back.")

    def __init__(self, *args, release, reviewers=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "items").queryset = release.checklist_items.all()
        if reviewers is not None:  # the picker offers those eligible (releases.rules)
            field = model_choice_field(self, "reviewer")
            field.queryset = _people().filter(pk__in=[p.pk for p in reviewers])

    def options(self) -> dict:
        data = self.cleaned_data
        return {"owner": data["owner"], "reviewer": data["reviewer"], "url": data["url"],
                "upload": data["file"], "status": data["status"], "reason": data["reason"]}
