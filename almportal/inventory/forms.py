"""Parse what people type into the values services take. Rules live in the services."""


from django import forms

from ..accounts.models import User
from ..core.forms import choice_field, model_choice_field
from .models import COMPONENT_MODELS, Agent, Credential, DataSource, ModelComponent, Prompt, Tool
from .services import AGENT_EDITABLE_FIELDS


def people():
    return User.objects.filter(is_active=True, is_service_account=False).order_by(
        "first_name", "last_name", "username")


def split_commas(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class CommaListField(forms.CharField):
    """A list of short strings typed as "a, b, c"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return split_commas(super().to_python(value) or "")


class KpiField(forms.CharField):
    """KPIs typed one per line as "Metric: target", parsed to [{name, target}]."""

    widget = forms.Textarea(attrs={"rows": 4, "placeholder": "Deflected tickets: 30%"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 5000)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{kpi.get('name', '')}: {kpi.get('target', '')}" for kpi in value)
        return value

    def to_python(self, value):
        kpis = []
        for number, line in enumerate((super().to_python(value) or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, colon, target = line.partition(":")
            if not colon or not name.strip() or not target.strip():
                raise forms.ValidationError(
                    "Line %(number)s (“%(line)s”) is not “Metric: target”.",
                    code="kpi_line", params={"number": number, "line": line.strip()[:80]})
            kpis.append({"name": name.strip(), "target": target.strip()})
        return kpis


class AgentForm(forms.ModelForm):
    """The intake: every field of the agent record that its owner fills in."""

    success_metrics = KpiField(
        label="KPIs with targets", help_text="One per line: Metric: target.")
    tags = CommaListField(help_text="Comma-separated, e.g. hr, handbook.")
    technical_owner = forms.ModelChoiceField(queryset=people(), required=False,
                                             help_text="Who builds and runs it.")

    class Meta:
        model = Agent
        fields = AGENT_EDITABLE_FIELDS
        labels = {"why_agent": "Why an agent rather than rules, search or a plain prompt",
                  "intended_users": "Intended users", "audience": "Audience"}
        help_texts = {"why_agent": ""}
        widgets = {"purpose": forms.Textarea(attrs={"rows": 4}),
                   "why_agent": forms.Textarea(attrs={"rows": 3}),
                   "intended_users": forms.Textarea(attrs={"rows": 2})}

    field_order = ["name", "purpose", "why_agent", "intended_users", "audience",
                   "success_metrics", "autonomy_level", "data_classification", "action_reach",
                   "regulated_domain", "business_unit", "technical_owner", "sponsor", "tags"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "technical_owner").queryset = people()

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in AGENT_EDITABLE_FIELDS}


class AgentEditForm(AgentForm):
    reason = forms.CharField(label="Reason for the change", required=False, max_length=500,
                             help_text="Recorded in the history with the change.")


class NoteForm(forms.Form):
    """An optional note, or a reason a service may require (decline, revoke)."""

    reason = forms.CharField(required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DelegateForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "user").queryset = people()


# --- Components: one form per kind, each creating the next version ----------------------

KIND_LABELS = {"models": "Models", "prompts": "Prompts", "tools": "Tools",
               "data_sources": "Data sources", "credentials": "Credentials and grants"}
_COMMON = ["name", "notes"]


class ModelComponentForm(forms.ModelForm):
    class Meta:
        model = ModelComponent
        fields = _COMMON + ["provider", "model_name", "pinned_version", "hosting",
                            "data_retention"]


class PromptForm(forms.ModelForm):
    class Meta:
        model = Prompt
        fields = _COMMON + ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 10})}


class ToolForm(forms.ModelForm):
    operations = CommaListField(help_text="Comma-separated, e.g. search, read_page.")

    class Meta:
        model = Tool
        fields = _COMMON + ["tool_kind", "endpoint", "operations", "writes",
                            "needs_human_approval"]


class DataSourceForm(forms.ModelForm):
    class Meta:
        model = DataSource
        fields = _COMMON + ["system", "classification", "retrieval_scope"]


class CredentialForm(forms.ModelForm):
    scopes = CommaListField(help_text="Comma-separated, e.g. mail.read, calendar.read.")
    expires_at = forms.DateTimeField(
        required=False, label="Expires at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    class Meta:
        model = Credential
        fields = _COMMON + ["identity", "scopes", "granted_by", "expires_at", "mode"]


COMPONENT_FORMS: dict[str, type[forms.ModelForm]] = {
    "models": ModelComponentForm, "prompts": PromptForm, "tools": ToolForm,
    "data_sources": DataSourceForm, "credentials": CredentialForm,
}
assert set(COMPONENT_FORMS) == set(COMPONENT_MODELS)


class ServiceRightsForm(forms.Form):
    """An admin gives a service account exactly these narrow rights on one agent."""

    account = forms.ModelChoiceField(queryset=User.objects.none(), label="Service account")
    rights = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text="None: take every right away.")
    reason = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, **kwargs):
        from .rules import SERVICE_RIGHTS

        super().__init__(*args, **kwargs)
        model_choice_field(self, "account").queryset = User.objects.filter(
            is_active=True, is_service_account=True).order_by("username")
        choice_field(self, "rights").choices = list(SERVICE_RIGHTS.items())
