"""What changed between two releases of an agent, read from their manifests.

Changes that alter the agent's risk are marked as needing reassessment, by the same rules that
make a risk assessment stale: a tool that now writes, a data source of a higher
classification, a credential with broader scopes, and a model whose vendor, hosting or data
retention changed (the questionnaire asks about each)."""

import difflib
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist

from ..inventory.choices import DataClassification
from ..inventory.models import COMPONENT_MODELS, Prompt
from .models import Release

MODEL_RISK_FIELDS = ("provider", "hosting", "data_retention")


@dataclass
class ComponentChange:
    kind: str
    name: str
    change: str  # added, removed or changed
    fields: list[str] = field(default_factory=list)
    before: dict | None = None
    after: dict | None = None
    reassessment: list[str] = field(default_factory=list)  # why it needs one, if it does
    text_diff: list[str] = field(default_factory=list)  # prompts: a unified diff of the text

    @property
    def label(self) -> str:
        return str(COMPONENT_MODELS[self.kind]._meta.verbose_name)

    @property
    def field_labels(self) -> list[str]:
        """The changed fields as people read them, not as the manifest names them."""
        return [_field_label(self.kind, name) for name in self.fields]


def _field_label(kind: str, name: str) -> str:
    try:
        model_field = COMPONENT_MODELS[kind]._meta.get_field(name)
        label = str(getattr(model_field, "verbose_name", name.replace("_", " ")))
    except FieldDoesNotExist:
        label = name.replace("_", " ")
    return label[:1].upper() + label[1:]


@dataclass
class ReleaseDiff:
    old: Release
    new: Release
    components: list[ComponentChange]
    configuration: list[tuple[str, object, object]]

    @property
    def needs_reassessment(self) -> bool:
        return any(change.reassessment for change in self.components)


def _rank(classification: str | None) -> int:
    return DataClassification.rank(classification) if classification else -1


def _risk_reasons(kind: str, before: dict | None, after: dict | None) -> list[str]:
    if after is None:
        return []  # removing a component never raises the risk
    before = before or {}
    reasons = []
    if kind == "tools" and after.get("writes") and not before.get("writes"):
        reasons.append("a tool that writes")
    if kind == "data_sources" and _rank(after.get("classification")) > _rank(
            before.get("classification")):
        reasons.append("data of a higher classification")
    if kind == "credentials" and set(after.get("scopes") or []) - set(before.get("scopes") or []):
        reasons.append("broader credential scopes")
    if kind == "models" and any(before.get(f) != after.get(f) for f in MODEL_RISK_FIELDS):
        reasons.append("a different model vendor, hosting or data retention")
    return reasons


def _by_name(manifest: dict, kind: str) -> dict[str, dict]:
    return {entry["name"]: entry for entry in manifest.get("components", {}).get(kind, [])}


def _changed_fields(before: dict, after: dict) -> list[str]:
    keys = (before.keys() | after.keys()) - {"id", "version"}
    return sorted(k for k in keys if before.get(k) != after.get(k))


def _prompt_texts(changes: list[ComponentChange]) -> None:
    ids = {entry["id"] for c in changes if c.kind == "prompts"
           for entry in (c.before, c.after) if entry}
    texts = dict(Prompt.objects.filter(pk__in=ids).values_list("pk", "text"))
    for change in changes:
        if (change.kind == "prompts" and change.change == "changed"
                and change.before and change.after):
            change.text_diff = list(difflib.unified_diff(
                texts.get(change.before["id"], "").splitlines(),
                texts.get(change.after["id"], "").splitlines(),
                f"v{change.before['version']}", f"v{change.after['version']}", lineterm=""))


def comparison_refusal(old: Release, new: Release) -> str | None:
    """Why the two releases cannot be compared: the same release twice, or releases of two
    agents (whose manifests share nothing to compare)."""
    if old.pk == new.pk:
        return "Choose two different releases."
    if old.agent_id != new.agent_id:
        return "Choose a release of the same agent."
    return None


def release_diff(old: Release, new: Release) -> ReleaseDiff:
    changes = []
    for kind in COMPONENT_MODELS:
        before_all, after_all = _by_name(old.manifest, kind), _by_name(new.manifest, kind)
        for name in sorted(before_all.keys() | after_all.keys()):
            before, after = before_all.get(name), after_all.get(name)
            if before and after and before.get("version") == after.get("version"):
                continue
            change = "added" if before is None else "removed" if after is None else "changed"
            changes.append(ComponentChange(
                kind=kind, name=name, change=change, before=before, after=after,
                fields=_changed_fields(before or {}, after or {}) if change == "changed" else [],
                reassessment=_risk_reasons(kind, before, after)))
    _prompt_texts(changes)
    old_config, new_config = old.manifest.get("configuration", {}), new.manifest.get(
        "configuration", {})
    configuration = [(key, old_config.get(key), new_config.get(key))
                     for key in sorted(old_config.keys() | new_config.keys())
                     if old_config.get(key) != new_config.get(key)]
    return ReleaseDiff(old=old, new=new, components=changes, configuration=configuration)
