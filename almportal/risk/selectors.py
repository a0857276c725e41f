"""Read queries for the risk pages, API and other apps' pages (the agent page, home pages)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import TypeVar

from django.conf import settings
from django.db.models import (
    Case,
    DateTimeField,
    F,
    FilteredRelation,
    Prefetch,
    Q,
    QuerySet,
    When,
)
from django.utils import timezone

from ..accounts.models import User
from ..core import caching
from ..core.lists import Shortlist
from ..inventory.choices import CLOSED_STAGES, DataClassification, Hosting, Stage, ToolKind
from ..inventory.models import Agent, ComponentVersion
from ..inventory.selectors import agents_visible_to, visible_through
from . import rules
from .choices import AssessmentState, PrefillSource, tier_rank
from .models import (
    AnswerOption,
    Assessment,
    FrameworkClause,
    ImpactAssessment,
    Question,
    Questionnaire,
    ResidualRiskAcceptance,
    RiskEntry,
    TierPolicy,
    Treatment,
)
from .rules import AssessmentStatus, judge_assessment

ComponentT = TypeVar("ComponentT", bound=ComponentVersion)

# --- Questionnaire and policy --------------------------------------------------------------

def questionnaire_with_questions(pk: int) -> Questionnaire:
    return Questionnaire.objects.prefetch_related(
        Prefetch("questions", queryset=Question.objects.prefetch_related(
            "clauses", Prefetch("options", queryset=AnswerOption.objects.prefetch_related(
                "clauses"))))).get(pk=pk)


def current_questionnaire() -> Questionnaire | None:
    """The published questionnaire with the highest version: what new assessments use."""
    latest = (Questionnaire.objects.filter(published_at__isnull=False)
              .order_by("-version").values_list("pk", flat=True).first())
    return questionnaire_with_questions(latest) if latest else None


POLICIES_KEY = "risk:tier-policies"


def policies_by_tier() -> dict[str, TierPolicy]:
    """Every tier's policy. A handful of rows that most pages read, so they come from the
    cache, dropped whenever a policy is saved or deleted (risk/apps.py) and kept at most
    TIER_POLICY_CACHE_SECONDS (the bound for a change made outside Django)."""
    return caching.remembered(POLICIES_KEY, lambda: {p.tier: p for p in TierPolicy.objects.all()},
                              settings.TIER_POLICY_CACHE_SECONDS)


def forget_policies(sender=None, **kwargs) -> None:
    caching.forget([POLICIES_KEY])


def tier_policies() -> list[TierPolicy]:
    return sorted(policies_by_tier().values(), key=lambda p: tier_rank(p.tier))


def tier_policy(tier: str) -> TierPolicy | None:
    return policies_by_tier().get(tier)


# --- Assessments ---------------------------------------------------------------------------

def assessments_visible_to(user: User) -> QuerySet[Assessment]:
    return Assessment.objects.filter(visible_through(user)).select_related(
        "agent", "questionnaire", "drafted_by", "completed_by")


def latest_completed(agent: Agent) -> Assessment | None:
    return (Assessment.objects.filter(agent=agent, state=AssessmentState.COMPLETED)
            .select_related("questionnaire", "completed_by")
            .order_by("-completed_at", "-pk").first())


def open_draft(agent: Agent) -> Assessment | None:
    return (Assessment.objects.filter(agent=agent, state=AssessmentState.DRAFT)
            .select_related("drafted_by").order_by("-pk").first())


def agent_assessments(agent: Agent) -> list[Assessment]:
    return list(Assessment.objects.filter(agent=agent)
                .select_related("questionnaire", "drafted_by", "completed_by")
                .order_by("-created_at", "-pk"))


def assessment_history(assessment: Assessment) -> list:
    """The assessment's history rows, newest first (drafts saved, completion, tier changes)."""
    return list(assessment.history.select_related("history_user").order_by("-history_date",
                                                                          "-history_id"))


# --- What an assessment is made on ---------------------------------------------------------

def _latest_versions(components: Iterable[ComponentT]) -> list[ComponentT]:
    """The newest version of each name (sorted here, so prefetched components cost nothing)."""
    latest: dict[str, ComponentT] = {}
    for component in sorted(components, key=lambda c: (c.name, -c.version)):
        latest.setdefault(component.name, component)
    return list(latest.values())


# Higher apps add risk-relevant attributes of their own (open drift findings) with
# register_attribute_source: a callable given the agent, returning attributes to merge in (an
# empty dict when there is nothing, so the fingerprints of unaffected agents do not change),
# and the relation to prefetch when many agents are judged at once.
AttributeSource = Callable[[Agent], dict]
_attribute_sources: list[AttributeSource] = []
_attribute_prefetches: list[str] = []


def register_attribute_source(source: AttributeSource, *, prefetch: str = "") -> None:
    if source not in _attribute_sources:
        _attribute_sources.append(source)
    if prefetch and prefetch not in _attribute_prefetches:
        _attribute_prefetches.append(prefetch)


def attribute_prefetches() -> list[str]:
    return ["tools", "data_sources", "credentials", *_attribute_prefetches]


def risk_attributes(agent: Agent) -> dict:
    """The agent's risk-relevant attributes, from the latest version of each component (and
    only non-revoked credentials). An assessment stores these and their content hash."""
    extra: dict = {}
    for source in _attribute_sources:
        extra.update(source(agent))
    return {**_own_attributes(agent), **extra}


def _own_attributes(agent: Agent) -> dict:
    tools = _latest_versions(agent.tools.all())
    sources = _latest_versions(agent.data_sources.all())
    credentials = [c for c in _latest_versions(agent.credentials.all()) if not c.is_revoked]
    return {
        "autonomy_level": agent.autonomy_level,
        "action_reach": agent.action_reach,
        "data_classification": agent.data_classification,
        "audience": agent.audience,
        "regulated_domain": agent.regulated_domain,
        "write_tools": sorted(t.name for t in tools if t.writes),
        "highest_data_source_classification": max(
            (s.classification for s in sources), key=DataClassification.rank, default=None),
        "credential_scopes": sorted({str(scope) for c in credentials for scope in c.scopes}),
    }


def _tool_access(agent: Agent) -> str:
    tools = _latest_versions(agent.tools.all())
    if any(t.tool_kind == ToolKind.CODE_EXECUTION for t in tools):
        return "code_execution"
    if any(t.writes and not t.needs_human_approval for t in tools):
        return "writes_unapproved"
    if any(t.writes for t in tools):
        return "writes_approved"
    return "none"


def _model_hosting(agent: Agent) -> str | None:
    hosting = {m.hosting for m in _latest_versions(agent.models.all())}
    if not hosting:
        return None
    return "self_hosted" if hosting == {Hosting.SELF_HOSTED} else "vendor_api"


def _prefill_value(source: str, agent: Agent) -> str | None:
    if source == PrefillSource.TOOLS:
        return _tool_access(agent)
    if source == PrefillSource.MODELS:
        return _model_hosting(agent)
    return getattr(agent, source, None)


def prefill_answers(agent: Agent, questionnaire: Questionnaire) -> dict[str, str]:
    """Suggested answers for the questions that map to the agent's record or components."""
    answers = {}
    for question in questionnaire.questions.all():
        value = _prefill_value(question.prefill, agent) if question.prefill else None
        if value is None:
            continue
        for option in question.options.all():
            if option.prefill_value == value:
                answers[question.key] = option.key
                break
    return answers


# --- Work waiting --------------------------------------------------------------------------

_LOOK_UP = object()


def assessment_status(agent: Agent, *, now: datetime | None = None, latest=_LOOK_UP,
                      draft=_LOOK_UP, policy_for=None) -> AssessmentStatus:
    """The facts rules.judge_assessment decides on, looked up. A caller checking many agents
    passes what it fetched for all of them at once (`latest`, `draft`, `policy_for`)."""
    latest = latest_completed(agent) if latest is _LOOK_UP else latest
    draft = open_draft(agent) if draft is _LOOK_UP else draft
    attributes = risk_attributes(agent) if latest is not None else {}
    policy = (policy_for or tier_policy)(latest.tier) if latest is not None else None
    return judge_assessment(agent, latest=latest, draft=draft, attributes=attributes,
                            policy=policy, now=now or timezone.now())


def assessment_freshness(assessment: Assessment) -> AssessmentStatus | None:
    """The status of one assessment: None for a draft or one superseded by a later one."""
    if not assessment.is_completed:
        return None
    status = assessment_status(assessment.agent)
    return status if status.assessment and status.assessment.pk == assessment.pk else None


def with_latest_assessment(agents: QuerySet[Agent]) -> QuerySet[Agent]:
    """Annotate each agent with its latest completed assessment: `assessed_at`,
    `assessed_tier`, `attributes_changed` and `due_at` (its tier's reassessment date), all
    computed in the database from one join on the `latest` flag (the same assessment
    latest_completed finds, so judge_assessment and this agree)."""
    periods = [When(assessed_tier=tier, then=F("assessed_at") + timedelta(days=days))
               for tier, days in ((t, p.reassessment_days) for t, p in policies_by_tier().items())
               if days]
    return (agents.annotate(latest_assessment=FilteredRelation(
                "risk_assessments", condition=Q(risk_assessments__latest=True)))
            .annotate(assessed_at=F("latest_assessment__completed_at"),
                      assessed_tier=F("latest_assessment__tier"),
                      attributes_changed=F("latest_assessment__attributes_changed"))
            .annotate(due_at=Case(*periods, default=None, output_field=DateTimeField())))


def assessments_needing_attention(user: User, limit: int | None = None, *,
                                  agents: QuerySet[Agent] | None = None) -> Shortlist:
    """For an owner's pending work: the agents they may change (or those of `agents`) whose
    assessment is stale, or missing once the intake is past draft. Selected in the database
    (assessment_status decides the same from the derived columns); statuses are built for the
    rows shown only. Returns rules.AssessmentStatus objects."""
    now = timezone.now()
    scope = agents_visible_to(user, "change_agent") if agents is None else agents
    agents = (with_latest_assessment(scope.exclude(stage__in=[*CLOSED_STAGES, Stage.DECLINED]))
              .filter(Q(assessed_at__isnull=True) & ~Q(stage=Stage.DRAFT)
                      | Q(attributes_changed=True) | Q(due_at__lte=now))
              .order_by("name").prefetch_related(*attribute_prefetches()))
    page = Shortlist.of(agents, limit)
    latest, drafts = _latest_assessments(page)
    policies = policies_by_tier()
    return Shortlist([assessment_status(agent, now=now, latest=latest.get(agent.pk),
                                        draft=drafts.get(agent.pk), policy_for=policies.get)
                      for agent in page], page.total)


def _latest_assessments(agents: list[Agent]) -> tuple[dict, dict]:
    """{agent id: latest completed assessment} and {agent id: open draft}, in two queries."""
    completed = (Assessment.objects.filter(agent__in=agents, state=AssessmentState.COMPLETED)
                 .select_related("questionnaire", "completed_by").order_by("completed_at", "pk"))
    drafts = (Assessment.objects.filter(agent__in=agents, state=AssessmentState.DRAFT)
              .select_related("drafted_by").order_by("pk"))
    return ({a.agent_id: a for a in completed}, {a.agent_id: a for a in drafts})


def drafts_awaiting_completion(user: User) -> QuerySet[Assessment]:
    """For an assessor's pending work: drafts of agents they do not own."""
    return (assessments_visible_to(user).filter(state=AssessmentState.DRAFT)
            .exclude(agent__business_owner=user).exclude(agent__stage__in=CLOSED_STAGES)
            .order_by("created_at"))


# --- Framework coverage --------------------------------------------------------------------

@dataclass
class Evidence:
    agent: Agent
    source: str
    description: str
    url: str = ""


# A source of evidence: given agents, yields (clause id, Evidence) pairs. Higher apps (the
# readiness checklist) add theirs with register_evidence_source.
EvidenceSource = Callable[[list[Agent]], Iterable[tuple[int, Evidence]]]
_evidence_sources: list[EvidenceSource] = []


def register_evidence_source(source: EvidenceSource) -> None:
    if source not in _evidence_sources:
        _evidence_sources.append(source)


def assessment_evidence(agents: list[Agent]) -> Iterable[tuple[int, Evidence]]:
    """A completed, current assessment evidences the clauses of the questions it answered
    (and of the answers it chose)."""
    questionnaires: dict[int, Questionnaire] = {}
    for agent in agents:
        status = assessment_status(agent)
        assessment = status.assessment
        if not status.is_current or assessment is None:  # a current status has its assessment
            continue
        if assessment.questionnaire_id not in questionnaires:
            questionnaires[assessment.questionnaire_id] = questionnaire_with_questions(
                assessment.questionnaire_id)
        questionnaire = questionnaires[assessment.questionnaire_id]
        for question in questionnaire.questions.all():
            chosen = assessment.answers.get(question.key)
            if not chosen:
                continue
            clauses = {c.pk for c in question.clauses.all()}
            for option in question.options.all():
                if option.key == chosen:
                    clauses |= {c.pk for c in option.clauses.all()}
            for clause_id in clauses:
                yield clause_id, Evidence(agent, f"Risk assessment #{assessment.pk}",
                                          question.text, assessment.get_absolute_url())


register_evidence_source(assessment_evidence)


def _questionnaire_clause_ids(questionnaire: Questionnaire | None) -> set[int]:
    if questionnaire is None:
        return set()
    ids = set()
    for question in questionnaire.questions.all():
        ids |= {c.pk for c in question.clauses.all()}
        for option in question.options.all():
            ids |= {c.pk for c in option.clauses.all()}
    return ids


def _checklist_clause_codes(policy: TierPolicy | None) -> set[str]:
    if policy is None:
        return set()
    return {code for item in policy.checklist_template for code in item.get("clauses", [])}


@dataclass
class ClauseCoverage:
    clause: FrameworkClause
    applicable: set[int] = field(default_factory=set)  # agent ids the clause applies to
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def evidenced(self) -> set[int]:
        return {e.agent.pk for e in self.evidence}

    @property
    def status(self) -> str:
        done = len(self.evidenced & self.applicable)
        if self.applicable and done == len(self.applicable):
            return "evidenced"
        return "partial" if done else "missing"


def clause_coverage(agents: Iterable[Agent]) -> list[ClauseCoverage]:
    """Every clause cited for these agents (by the current questionnaire, and by the checklist
    of each agent's tier), with the evidence each agent has for it."""
    agents = list(agents)
    questionnaire_ids = _questionnaire_clause_ids(current_questionnaire())
    policies = policies_by_tier()
    codes_by_tier = {tier: _checklist_clause_codes(p) for tier, p in policies.items()}
    ids_by_code = dict(FrameworkClause.objects.values_list("code", "pk"))
    applicable: dict[int, set[int]] = defaultdict(set)
    for agent in agents:
        ids = questionnaire_ids | {ids_by_code[c] for c in codes_by_tier.get(agent.risk_tier, ())
                                   if c in ids_by_code}
        for clause_id in ids:
            applicable[clause_id].add(agent.pk)
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for source in _evidence_sources:
        for clause_id, item in source(agents):
            evidence[clause_id].append(item)
    clauses = FrameworkClause.objects.filter(pk__in=set(applicable) | set(evidence))
    return [ClauseCoverage(c, applicable.get(c.pk, set()), evidence.get(c.pk, []))
            for c in clauses]


COVERAGE_STATUSES = ("evidenced", "partial", "missing")


@dataclass
class FrameworkCoverage:
    framework: str
    label: str
    clauses: list[ClauseCoverage]


@dataclass
class CoverageReport:
    """Framework coverage as its page draws it: the clauses grouped by framework, in the
    clauses' order, with how many are evidenced, partly evidenced or missing."""

    agent_count: int
    frameworks: list[FrameworkCoverage]

    @property
    def rows(self) -> list[ClauseCoverage]:
        return [row for group in self.frameworks for row in group.clauses]

    @property
    def counts(self) -> dict[str, int]:
        statuses = [row.status for row in self.rows]
        return {status: statuses.count(status) for status in COVERAGE_STATUSES}

    @property
    def total(self) -> int:
        return len(self.rows)


def coverage_report(agents: Iterable[Agent]) -> CoverageReport:
    """The coverage of these agents (clause_coverage), by framework."""
    agents = list(agents)
    rows = clause_coverage(agents)
    groups = [list(group) for _, group in groupby(rows, key=lambda row: row.clause.framework)]
    return CoverageReport(len(agents), [
        FrameworkCoverage(group[0].clause.framework, group[0].clause.get_framework_display(),
                          group) for group in groups])


def portfolio_agents(user: User) -> QuerySet[Agent]:
    """The agents the portfolio's coverage covers: those the user sees, retired ones aside."""
    return agents_visible_to(user).exclude(stage__in=CLOSED_STAGES)


# --- Risk register and impact assessment -----------------------------------------------------

@dataclass
class RegisterRow:
    """A risk with what the register page and API show of it, from prefetched rows."""

    entry: RiskEntry
    treatments: list
    residual_rating: str
    acceptance: ResidualRiskAcceptance | None
    acceptance_matches: bool


def risk_entries_visible_to(user: User) -> QuerySet[RiskEntry]:
    return RiskEntry.objects.filter(visible_through(user)).select_related(
        "agent", "owner", "recorded_by")


def treatments_visible_to(user: User) -> QuerySet[Treatment]:
    return Treatment.objects.filter(visible_through(user, "risk_entry__agent")).select_related(
        "risk_entry", "risk_entry__agent", "owner", "recorded_by")


def register_rows(agent: Agent, *, pk: int | None = None) -> list[RegisterRow]:
    """The agent's register (or its one risk `pk`) in a fixed number of queries, however many
    risks it holds."""
    entries = RiskEntry.objects.filter(agent=agent)
    if pk is not None:
        entries = entries.filter(pk=pk)
    entries = (entries.select_related("agent", "owner", "recorded_by")
               .prefetch_related(
                   Prefetch("treatments", queryset=Treatment.objects.select_related("owner")
                            .order_by("pk")),
                   Prefetch("acceptances", queryset=ResidualRiskAcceptance.objects
                            .select_related("accepted_by").order_by("-signed_at", "-pk")))
               .order_by("pk"))
    rows = []
    for entry in entries:
        treatments = list(entry.treatments.all())
        acceptance = next(iter(entry.acceptances.all()), None)
        rows.append(RegisterRow(
            entry, treatments, rules.residual_rating(entry, treatments), acceptance,
            acceptance is not None
            and acceptance.content_hash == rules.register_hash(entry, treatments)))
    return rows


def impact_assessments(agent: Agent) -> list[ImpactAssessment]:
    return list(ImpactAssessment.objects.filter(agent=agent)
                .select_related("agent", "drafted_by", "signed_by").order_by("-number"))


def impact_assessment(agent: Agent, number: int) -> ImpactAssessment | None:
    """One version of the agent's impact assessment, or None."""
    return (ImpactAssessment.objects.filter(agent=agent, number=number)
            .select_related("agent", "drafted_by", "signed_by").first())
