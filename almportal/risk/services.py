"""Risk rules and every change to risk rows: scoring, tiers, staleness, the questionnaire's
versions and the tier policies. Pages, API and admin call these functions."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Case, Max, Value, When
from django.utils import timezone

from ..accounts.models import User
from ..accounts.permissions import require
from ..accounts.roles import Role
from ..core.errors import Conflict, DomainError, clean_or_refuse
from ..core.lifecycle import attribute_change, lock, record
from ..inventory import services as inventory
from ..inventory.choices import RiskTier
from ..inventory.models import Agent
from . import selectors, signals
from .choices import (
    ASSESSED_TIERS,
    RESERVED_QUESTION_KEYS,
    AssessmentState,
    Pillar,
    tier_rank,
)
from .models import AnswerOption, Assessment, FrameworkClause, Question, Questionnaire, TierPolicy
from .rules import (  # noqa: F401 (register_completion_veto: releases registers through here)
    complete_refusal,
    compute_result,
    draft_refusal,
    fingerprint,
    register_completion_veto,
    tier_label,
)
from .selectors import assessment_status  # noqa: F401 (releases still reads it from here)

SIGNOFF_ROLES = (Role.BUSINESS_OWNER, Role.COMPLIANCE, Role.SECURITY, Role.ADMIN)


# --- Scoring -------------------------------------------------------------------------------

def validate_answers(questionnaire: Questionnaire, answers: Any, *,
                     complete: bool) -> dict[str, str]:
    """The answers as {question key: option key}; every question answered when `complete`."""
    if not isinstance(answers, Mapping):
        raise DomainError("Answers must map each question's key to an option's key.",
                          field="answers")
    questions = {q.key: q for q in questionnaire.questions.all()}
    errors: dict[str, list[str]] = {}
    for key in answers:
        if key not in questions:
            errors[str(key)] = ["Not a question of this questionnaire."]
    cleaned = {}
    for key, question in questions.items():
        chosen = answers.get(key)
        if chosen in (None, ""):
            if complete:
                errors[key] = ["Answer this question."]
            continue
        if str(chosen) not in {o.key for o in question.options.all()}:
            errors[key] = ["Choose one of the listed answers."]
            continue
        cleaned[key] = str(chosen)
    if errors:
        raise DomainError("Some answers need attention.", errors=errors)
    return cleaned


# --- Staleness -----------------------------------------------------------------------------

def assessments_mark_changed(agent_id: int) -> None:
    """Keep Assessment.attributes_changed true of the agent's completed assessments whose
    fingerprint differs from the agent's attributes today (a derived column: no history)."""
    agent = (Agent.objects.filter(pk=agent_id)
             .prefetch_related(*selectors.attribute_prefetches()).first())
    if agent is None:
        return
    now = fingerprint(selectors.risk_attributes(agent))
    Assessment.objects.filter(agent_id=agent_id, state=AssessmentState.COMPLETED).update(
        attributes_changed=Case(When(fingerprint=now, then=Value(False)), default=Value(True)))


# --- Refusing an unacceptable agent (inventory's accept_guard; release submission) ---

def refuse_unacceptable_agent(agent: Agent) -> None:
    latest = selectors.latest_completed(agent)
    if latest is not None and latest.tier == RiskTier.UNACCEPTABLE:
        raise Conflict(f"{agent} is assessed as unacceptable (a prohibited practice, risk "
                       f"assessment #{latest.pk}) and cannot go ahead.")


# --- Assessments ---------------------------------------------------------------------------

def _require_draft_rights(actor: User, agent: Agent) -> None:
    refusal = draft_refusal(actor, agent)
    if refusal is not None:
        raise refusal


def _require_complete_rights(actor: User, agent: Agent) -> None:
    refusal = complete_refusal(actor, agent)
    if refusal is not None:
        raise refusal


def _check_tier(computed: str, tier: str, justification: str) -> tuple[str, str]:
    tier = tier or computed
    if tier not in ASSESSED_TIERS:
        raise DomainError("Choose a tier.", field="tier")
    if tier_rank(tier) < tier_rank(computed):
        raise DomainError(f"The tier cannot be lower than the computed "
                          f"{tier_label(computed).lower()}.", field="tier")
    justification = (justification or "").strip()
    if tier != computed and not justification:
        raise DomainError("Say why the tier is above the computed one.", field="justification")
    return tier, justification if tier != computed else ""


@transaction.atomic
def assessment_draft(*, actor: User, agent: Agent, answers: Mapping | None = None,
                     reason: str = "") -> Assessment:
    """Start an assessment on the current questionnaire, its answers suggested from the agent's
    record where questions map to it."""
    agent = lock(Agent, agent.pk)
    _require_draft_rights(actor, agent)
    if selectors.open_draft(agent) is not None:
        raise Conflict("A draft assessment of this agent is open: continue it.")
    questionnaire = selectors.current_questionnaire()
    if questionnaire is None:
        raise Conflict("No risk questionnaire is published yet.")
    suggested = selectors.prefill_answers(agent, questionnaire)
    cleaned = validate_answers(questionnaire, {**suggested, **(answers or {})}, complete=False)
    assessment = Assessment(agent=agent, questionnaire=questionnaire, answers=cleaned,
                            drafted_by=actor)
    record(assessment, actor=actor, reason=reason or "Risk assessment drafted")
    return assessment


def _lock_assessment(assessment: Assessment) -> Assessment:
    assessment = lock(Assessment, assessment.pk)
    assessment.questionnaire = selectors.questionnaire_with_questions(
        assessment.questionnaire_id)
    return assessment


@transaction.atomic
def assessment_update(*, actor: User, assessment: Assessment, answers: Mapping,
                      reason: str = "") -> Assessment:
    assessment = _lock_assessment(assessment)
    _require_draft_rights(actor, assessment.agent)
    if assessment.is_completed:
        raise Conflict("A completed assessment cannot change: start a new one.")
    merged = {**assessment.answers, **answers} if isinstance(answers, Mapping) else answers
    assessment.answers = validate_answers(assessment.questionnaire, merged, complete=False)
    record(assessment, actor=actor, reason=reason or "Risk assessment draft saved")
    return assessment


@transaction.atomic
def assessment_complete(*, actor: User, assessment: Assessment, answers: Mapping | None = None,
                        tier: str = "", justification: str = "",
                        reason: str = "") -> Assessment:
    """Score the answers, fix the tier (the computed one, or higher with a justification), take
    the fingerprint of what was assessed and record the tier on the agent."""
    assessment = _lock_assessment(assessment)
    agent = lock(Agent, assessment.agent_id)
    _require_complete_rights(actor, agent)
    if assessment.is_completed:
        raise Conflict("This assessment is already completed.")
    merged = {**assessment.answers, **answers} if isinstance(answers, Mapping) else (
        assessment.answers if answers is None else answers)
    cleaned = validate_answers(assessment.questionnaire, merged, complete=True)
    result = compute_result(assessment.questionnaire, cleaned)
    final_tier, justification = _check_tier(result.computed_tier, tier, justification)
    attributes = selectors.risk_attributes(agent)
    assessment.answers = cleaned
    assessment.score, assessment.computed_tier, assessment.drivers = (
        result.score, result.computed_tier, result.drivers)
    assessment.tier, assessment.justification = final_tier, justification
    assessment.attributes, assessment.fingerprint = attributes, fingerprint(attributes)
    assessment.attributes_changed = False
    assessment.state = AssessmentState.COMPLETED
    assessment.completed_by, assessment.completed_at = actor, timezone.now()
    Assessment.objects.filter(agent=agent, latest=True).update(latest=False)
    assessment.latest = True
    summary = f"Risk assessment completed: {tier_label(final_tier)}"
    if final_tier != result.computed_tier:
        summary += f" (raised from {tier_label(result.computed_tier)}: {justification})"
    record(assessment, actor=actor, reason=reason or summary)
    inventory.agent_set_risk_tier(actor=actor, agent=agent, tier=final_tier,
                                  reason=f"Risk assessment #{assessment.pk}: "
                                         f"{tier_label(final_tier)}")
    return assessment


@transaction.atomic
def assessment_set_tier(*, actor: User, assessment: Assessment, tier: str,
                        justification: str) -> Assessment:
    """Change the tier of the agent's latest completed assessment: never below the computed
    tier, and above it only with a written justification."""
    assessment = lock(Assessment, assessment.pk)
    agent = lock(Agent, assessment.agent_id)
    _require_complete_rights(actor, agent)
    if not assessment.is_completed:
        raise Conflict("Complete the assessment first.")
    latest = selectors.latest_completed(agent)
    if latest is None or latest.pk != assessment.pk:
        raise Conflict("A later assessment supersedes this one.")
    tier, justification = _check_tier(assessment.computed_tier, tier, justification)
    if tier == assessment.tier:
        raise DomainError(f"The tier is already {tier_label(tier).lower()}.", field="tier")
    previous = assessment.tier
    assessment.tier, assessment.justification = tier, justification
    reason = f"Tier changed from {tier_label(previous)} to {tier_label(tier)}"
    record(assessment, actor=actor, reason=f"{reason}: {justification}" if justification
           else f"{reason} (the computed tier)")
    inventory.agent_set_risk_tier(actor=actor, agent=agent, tier=tier,
                                  reason=f"Risk assessment #{assessment.pk}: {reason}")
    return assessment


# --- Questionnaire versions ----------------------------------------------------------------

def _require_admin(actor: User, perm: str) -> None:
    require(actor, perm, message="Only admins change the risk questionnaire and tier policies.")


def validate_questionnaire_settings(*, tier_thresholds: Any, rules: Any,
                                    question_keys: set[str] | None = None) -> None:
    errors: dict[str, list[str]] = {}
    scored = (RiskTier.MEDIUM, RiskTier.HIGH, RiskTier.CRITICAL)
    if not isinstance(tier_thresholds, Mapping) or set(tier_thresholds) - set(scored) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in tier_thresholds.values()):
        errors["tier_thresholds"] = ["Give whole-number scores for medium, high and critical."]
    else:
        values = [tier_thresholds[t] for t in scored if t in tier_thresholds]
        if values != sorted(values):
            errors["tier_thresholds"] = ["Higher tiers need higher scores."]
    if not isinstance(rules, list) or not all(
            isinstance(r, Mapping) and isinstance(r.get("when"), Mapping) and r["when"]
            and all(isinstance(v, list) for v in r["when"].values())
            and r.get("minimum_tier") in ASSESSED_TIERS for r in rules):
        errors["rules"] = ['Each rule needs "when" ({question key: [option keys]}) and a '
                           '"minimum_tier".']
    elif question_keys is not None:
        unknown = {k for r in rules for k in r["when"]} - question_keys
        if unknown:
            errors["rules"] = [f"Unknown questions: {', '.join(sorted(unknown))}."]
    if errors:
        raise DomainError("The questionnaire's settings need attention.", errors=errors)


def _require_unpublished(questionnaire: Questionnaire) -> None:
    if questionnaire.is_published:
        raise Conflict(f"Version {questionnaire.version} is published and frozen: copy it into "
                       "a new version to change it.")


@transaction.atomic
def questionnaire_save(*, actor: User, questionnaire: Questionnaire,
                       reason: str = "") -> Questionnaire:
    """Create or edit an unpublished questionnaire version."""
    _require_admin(actor, "risk.change_questionnaire")
    if questionnaire.pk:
        _require_unpublished(lock(Questionnaire, questionnaire.pk))
    validate_questionnaire_settings(tier_thresholds=questionnaire.tier_thresholds,
                                    rules=questionnaire.rules)
    clean_or_refuse(questionnaire, validate_unique=True)
    record(questionnaire, actor=actor, reason=reason or "Questionnaire edited")
    return questionnaire


@transaction.atomic
def questionnaire_content_save(*, actor: User, item: Question | AnswerOption,
                               reason: str = "") -> None:
    """Save a question or answer option of an unpublished version."""
    _require_admin(actor, "risk.change_questionnaire")
    question = item if isinstance(item, Question) else item.question
    _require_unpublished(lock(Questionnaire, question.questionnaire_id))
    if isinstance(item, Question) and item.key in RESERVED_QUESTION_KEYS:
        raise DomainError(f"The key {item.key} is reserved; choose another.", field="key")
    clean_or_refuse(item, exclude=["clauses"], validate_unique=True)
    label = str(item._meta.verbose_name).capitalize()
    record(item, actor=actor, reason=reason or f"{label} edited")


@transaction.atomic
def questionnaire_content_delete(*, actor: User, item: Question | AnswerOption,
                                 reason: str = "") -> None:
    _require_admin(actor, "risk.change_questionnaire")
    question = item if isinstance(item, Question) else item.question
    _require_unpublished(lock(Questionnaire, question.questionnaire_id))
    attribute_change(item, actor=actor, reason=reason or "Removed")
    item.delete()


@transaction.atomic
def questionnaire_copy(*, actor: User, questionnaire: Questionnaire,
                       reason: str = "") -> Questionnaire:
    """A new, unpublished version with the same questions, answers and citations."""
    _require_admin(actor, "risk.add_questionnaire")
    source = selectors.questionnaire_with_questions(questionnaire.pk)
    version = (Questionnaire.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    copy = Questionnaire(version=version, title=source.title,
                         notes=f"Copied from version {source.version}.",
                         tier_thresholds=source.tier_thresholds, rules=source.rules)
    record(copy, actor=actor, reason=reason or f"Version {version} copied from {source.version}")
    for question in source.questions.all():
        new_q = Question(questionnaire=copy, key=question.key, text=question.text,
                         help_text=question.help_text, topic=question.topic,
                         order=question.order, prefill=question.prefill)
        record(new_q, actor=actor, reason="Copied")
        new_q.clauses.set(question.clauses.all())
        for option in question.options.all():
            new_o = AnswerOption(question=new_q, key=option.key, label=option.label,
                                 weight=option.weight, minimum_tier=option.minimum_tier,
                                 prohibited=option.prohibited,
                                 prefill_value=option.prefill_value, order=option.order)
            record(new_o, actor=actor, reason="Copied")
            new_o.clauses.set(option.clauses.all())
    return copy


@transaction.atomic
def questionnaire_publish(*, actor: User, questionnaire: Questionnaire,
                          reason: str = "") -> Questionnaire:
    """Publish a version: new assessments use it from now on; it can no longer change."""
    _require_admin(actor, "risk.change_questionnaire")
    questionnaire = lock(Questionnaire, questionnaire.pk)
    _require_unpublished(questionnaire)
    questionnaire = selectors.questionnaire_with_questions(questionnaire.pk)
    questions = list(questionnaire.questions.all())
    if not questions or any(not q.options.all() for q in questions):
        raise DomainError("Every question needs at least one answer before publishing.")
    validate_questionnaire_settings(tier_thresholds=questionnaire.tier_thresholds,
                                    rules=questionnaire.rules,
                                    question_keys={q.key for q in questions})
    questionnaire.published_at = timezone.now()
    record(questionnaire, actor=actor,
           reason=reason or f"Questionnaire version {questionnaire.version} published")
    return questionnaire


@transaction.atomic
def clause_save(*, actor: User, clause: FrameworkClause, reason: str = "") -> FrameworkClause:
    _require_admin(actor, "risk.change_frameworkclause")
    clean_or_refuse(clause, validate_unique=True)
    record(clause, actor=actor, reason=reason or "Framework clause edited")
    return clause


# --- Tier policy ---------------------------------------------------------------------------

def _thresholds_ok(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(metric, str) and metric.strip() and isinstance(bound, Mapping) and bound
        and set(bound) <= {"min", "max"}
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in bound.values())
        for metric, bound in value.items())


def _checklist_errors(items: Any, codes: set[str]) -> list[str]:
    if not isinstance(items, list):
        return ["Give a list of checklist items."]
    errors, keys = [], set()
    for n, item in enumerate(items, 1):
        if not isinstance(item, Mapping) or not str(item.get("key", "")).strip() \
                or not str(item.get("title", "")).strip():
            errors.append(f"Item {n} needs a key and a title.")
            continue
        if item["key"] in keys:
            errors.append(f"Item {n}: the key {item['key']} is used twice.")
        keys.add(item["key"])
        if item.get("pillar") not in Pillar.values:
            errors.append(f"Item {n}: the pillar must be one of {', '.join(Pillar.values)}.")
        clauses = item.get("clauses", [])
        if not isinstance(clauses, list) or set(clauses) - codes:
            errors.append(f"Item {n}: unknown clauses {sorted(set(clauses) - codes)}."
                          if isinstance(clauses, list) else f"Item {n}: clauses must be a list.")
    return errors


def validate_tier_policy(policy: TierPolicy) -> None:
    """The shape of the policy's JSON fields; a DomainError names each field that is wrong."""
    errors: dict[str, list[str]] = {}
    codes = set(FrameworkClause.objects.values_list("code", flat=True))
    if problems := _checklist_errors(policy.checklist_template, codes):
        errors["checklist_template"] = problems
    roles = policy.signoff_roles
    if not isinstance(roles, Mapping) or set(roles) - set(SIGNOFF_ROLES) or not all(
            isinstance(q, int) and not isinstance(q, bool) and q >= 1 for q in roles.values()):
        errors["signoff_roles"] = [f"Give {{role: quorum}} with roles among "
                                   f"{', '.join(SIGNOFF_ROLES)} and quorums of at least 1."]
    order = policy.signoff_order
    if not isinstance(order, list) or (isinstance(roles, Mapping) and set(order) - set(roles)) \
            or len(set(order)) != len(order if isinstance(order, list) else []):
        errors["signoff_order"] = ["List each signing role at most once, from the sign-off "
                                   "roles."]
    for name in ("evaluation_thresholds", "monitoring_thresholds"):
        if not _thresholds_ok(getattr(policy, name)):
            errors[name] = ['Give {metric: {"min": number} or {"max": number}}.']
    if errors:
        raise DomainError("The tier policy needs attention.", errors=errors)


@transaction.atomic
def tier_policy_update(*, actor: User, policy: TierPolicy, reason: str) -> TierPolicy:
    """Save an edited policy. It applies from now on: to staleness, gates and sign-offs; the
    releases app is told (signals.tier_policy_changed) and judges the tier's pending releases."""
    _require_admin(actor, "risk.change_tierpolicy")
    if not (reason or "").strip():
        raise DomainError("Say why the policy changes.", field="reason")
    if policy.pk:
        lock(TierPolicy, policy.pk)
    validate_tier_policy(policy)
    clean_or_refuse(policy, validate_unique=True)
    record(policy, actor=actor, reason=reason.strip())
    signals.tier_policy_changed.send(sender=TierPolicy, policy=policy, actor=actor,
                                     reason=reason.strip())
    return policy
