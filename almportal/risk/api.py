"""The risk API: assessments (create a draft, save its answers, complete it, change its tier,
read), the current questionnaire, the tier policies and framework coverage (of the portfolio,
and of one agent). Serializers parse and render; risk.services decides."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.permissions import signed_in
from ..core.api import StrictSerializer, slug_field, username_field, validated
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from . import rules, selectors, services
from .choices import TIER_CHOICES, AssessmentState, Framework
from .models import AnswerOption, Assessment, FrameworkClause, Question, Questionnaire, TierPolicy


def _codes(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="code", many=True, read_only=True, **kwargs)


# --- Questionnaire and policy ----------------------------------------------------------------

class ClauseSerializer(serializers.ModelSerializer):
    class Meta:
        model = FrameworkClause
        fields = ["code", "framework", "ref", "title"]
        read_only_fields = fields


class AnswerOptionSerializer(serializers.ModelSerializer):
    clauses = _codes(help_text="Codes of the clauses this answer cites.")

    class Meta:
        model = AnswerOption
        fields = ["key", "label", "weight", "minimum_tier", "prohibited", "clauses"]
        read_only_fields = fields


class QuestionSerializer(serializers.ModelSerializer):
    clauses = _codes(help_text="Codes of the clauses this question cites.")
    options = AnswerOptionSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["key", "text", "help_text", "topic", "order", "prefill", "clauses", "options"]
        read_only_fields = fields


class QuestionnaireSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Questionnaire
        fields = ["version", "title", "notes", "published_at", "tier_thresholds", "rules",
                  "questions"]
        read_only_fields = fields


class TierPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = TierPolicy
        fields = ["tier", "description", "checklist_template", "signoff_roles", "signoff_order",
                  "evaluation_thresholds", "regression_margin", "access_review_days",
                  "reassessment_days", "dormancy_days", "monitoring_thresholds", "updated_at"]
        read_only_fields = fields


@extend_schema(tags=["risk"])
@extend_schema_view(
    list=extend_schema(summary="Questionnaire versions, newest first"),
    retrieve=extend_schema(summary="One questionnaire version"),
)
class QuestionnaireViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = QuestionnaireSerializer
    lookup_field = "version"
    lookup_value_regex = r"\d+"
    pagination_class = None
    filter_backends: list = []
    queryset = Questionnaire.objects.none()

    def get_queryset(self):
        return Questionnaire.objects.prefetch_related(
            "questions__clauses", "questions__options__clauses").order_by("-version")

    @extend_schema(summary="The questionnaire new assessments use")
    @action(detail=False, methods=["get"])
    def current(self, request):
        questionnaire = selectors.current_questionnaire()
        if questionnaire is None:
            return Response({"detail": "No questionnaire is published yet."},
                            status=status.HTTP_404_NOT_FOUND)
        return Response(QuestionnaireSerializer(questionnaire).data)


@extend_schema(tags=["risk"])
@extend_schema_view(
    list=extend_schema(summary="What each tier requires"),
    retrieve=extend_schema(summary="What one tier requires"),
)
class TierPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TierPolicySerializer
    lookup_field = "tier"
    pagination_class = None
    filter_backends: list = []
    queryset = TierPolicy.objects.none()

    def get_queryset(self):
        return TierPolicy.objects.order_by("pk")


# --- Assessments -----------------------------------------------------------------------------

class AssessmentStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["current", "stale"],
                                    help_text="Whether the assessment still holds.")
    reasons = serializers.ListField(child=serializers.CharField())
    due_at = serializers.DateTimeField(allow_null=True)


class AssessmentSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    questionnaire_version = serializers.IntegerField(source="questionnaire.version",
                                                     read_only=True)
    drafted_by = username_field(read_only=True)
    completed_by = username_field(read_only=True)
    freshness = serializers.SerializerMethodField(
        help_text="For the agent's latest completed assessment: current or stale, and why. "
                  "Null for a draft or a superseded assessment.")

    class Meta:
        model = Assessment
        fields = ["id", "agent", "questionnaire_version", "state", "answers", "score",
                  "computed_tier", "tier", "justification", "drivers", "attributes",
                  "fingerprint", "drafted_by", "completed_by", "created_at", "completed_at",
                  "freshness"]
        read_only_fields = fields

    @extend_schema_field(AssessmentStatusSerializer(allow_null=True))
    def get_freshness(self, assessment: Assessment):
        status_ = selectors.assessment_freshness(assessment)
        if status_ is None:
            return None
        return {"state": status_.state, "reasons": status_.reasons, "due_at": status_.due_at}


def _answers_field(**kwargs) -> serializers.DictField:
    """Answers as every assessment route takes them; the service checks each against the
    questionnaire."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("help_text", "{question key: option key}. Missing answers are suggested "
                                   "from the agent's record where a question maps to it.")
    return serializers.DictField(child=serializers.CharField(max_length=60), **kwargs)


class AssessmentCreateSerializer(StrictSerializer):
    agent = serializers.SlugField(help_text="The agent's slug.")
    answers = _answers_field()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   default="")


class AssessmentUpdateSerializer(StrictSerializer):
    answers = _answers_field(required=True,
                             help_text="{question key: option key}, merged into the draft's "
                                       "answers: the questions it does not name keep theirs.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   default="")


class AssessmentCompleteSerializer(StrictSerializer):
    answers = _answers_field()
    tier = serializers.ChoiceField(choices=TIER_CHOICES, required=False, allow_blank=True,
                                   default="", help_text="Empty: the computed tier.")
    justification = serializers.CharField(required=False, allow_blank=True, max_length=4000,
                                          default="")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   default="")


class AssessmentTierSerializer(StrictSerializer):
    tier = serializers.ChoiceField(choices=TIER_CHOICES)
    justification = serializers.CharField(required=False, allow_blank=True, max_length=4000,
                                          default="")


class AssessmentFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug", label="Agent slug")
    state = django_filters.ChoiceFilter(choices=AssessmentState.choices)

    class Meta:
        model = Assessment
        fields = ["agent", "state"]


@extend_schema(tags=["risk"])
@extend_schema_view(
    list=extend_schema(summary="Risk assessments of the agents you may see"),
    retrieve=extend_schema(summary="One risk assessment, with its drivers and freshness"),
)
class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter
    queryset = Assessment.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assessment.objects.none()
        return selectors.assessments_visible_to(signed_in(self.request.user))

    def _render(self, assessment: Assessment, code: int = status.HTTP_200_OK) -> Response:
        assessment = self.get_queryset().get(pk=assessment.pk)
        return Response(AssessmentSerializer(assessment).data, status=code)

    @extend_schema(summary="Draft a risk assessment of an agent (its owner, a delegate, "
                           "compliance or an admin)",
                   request=AssessmentCreateSerializer, responses={201: AssessmentSerializer})
    def create(self, request):
        data = validated(AssessmentCreateSerializer, request)
        agent = get_object_or_404(agents_visible_to(request.user), slug=data["agent"])
        assessment = services.assessment_draft(actor=request.user, agent=agent,
                                               answers=data.get("answers"),
                                               reason=data["reason"])
        return self._render(assessment, status.HTTP_201_CREATED)

    @extend_schema(summary="Save a draft's answers without completing it (its owner, a "
                           "delegate, compliance or an admin; a completed assessment: 409)",
                   request=AssessmentUpdateSerializer, responses=AssessmentSerializer)
    def partial_update(self, request, pk=None):
        assessment = self.get_object()
        data = validated(AssessmentUpdateSerializer, request)
        assessment = services.assessment_update(actor=request.user, assessment=assessment,
                                                answers=data["answers"], reason=data["reason"])
        return self._render(assessment)

    @extend_schema(summary="Complete a draft (compliance officers and admins)",
                   request=AssessmentCompleteSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = validated(AssessmentCompleteSerializer, request)
        assessment = services.assessment_complete(
            actor=request.user, assessment=self.get_object(), answers=data.get("answers"),
            tier=data["tier"], justification=data["justification"], reason=data["reason"])
        return self._render(assessment)

    @extend_schema(summary="Change the tier of the latest completed assessment: never below "
                           "the computed tier, above it with a justification",
                   request=AssessmentTierSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def tier(self, request, pk=None):
        data = validated(AssessmentTierSerializer, request)
        assessment = services.assessment_set_tier(
            actor=request.user, assessment=self.get_object(), tier=data["tier"],
            justification=data["justification"])
        return self._render(assessment)


# --- Framework coverage ----------------------------------------------------------------------

class CoverageEvidenceSerializer(serializers.Serializer):
    agent = serializers.SlugField(source="agent.slug", help_text="The agent it evidences.")
    # The metaclass moves declared fields off the class, so this does not replace Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text='What evidences it, e.g. "Risk assessment #4".')
    description = serializers.CharField(allow_blank=True,
                                        help_text="The question or checklist item it answers.")
    url = serializers.CharField(allow_blank=True, help_text="Its page; empty when it has none.")


class ClauseCoverageSerializer(serializers.Serializer):
    clause = ClauseSerializer()
    status = serializers.ChoiceField(
        choices=selectors.COVERAGE_STATUSES,
        help_text="evidenced: every agent it applies to has evidence; partial: some; "
                  "missing: none.")
    applicable_agents = serializers.SerializerMethodField(
        help_text="How many of the agents the clause applies to.")
    evidenced_agents = serializers.SerializerMethodField(
        help_text="How many agents have evidence for it.")
    evidence = CoverageEvidenceSerializer(many=True)

    def get_applicable_agents(self, row: selectors.ClauseCoverage) -> int:
        return len(row.applicable)

    def get_evidenced_agents(self, row: selectors.ClauseCoverage) -> int:
        return len(row.evidenced)


class FrameworkCoverageSerializer(serializers.Serializer):
    framework = serializers.ChoiceField(choices=Framework.choices)
    # The metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The framework's name, as the page heads its table.")
    clauses = ClauseCoverageSerializer(many=True)


class CoverageCountsSerializer(serializers.Serializer):
    evidenced = serializers.IntegerField()
    # Moved off the class by the metaclass: Serializer.partial is left as it is.
    partial = serializers.IntegerField()  # type: ignore[assignment]
    missing = serializers.IntegerField()


class CoverageSerializer(serializers.Serializer):
    agent = serializers.SlugField(allow_null=True, help_text="Null for the portfolio.")
    agent_count = serializers.IntegerField(help_text="How many agents it covers.")
    counts = CoverageCountsSerializer(help_text="How many clauses are in each status.")
    total = serializers.IntegerField(help_text="How many clauses are cited.")
    frameworks = FrameworkCoverageSerializer(
        many=True, help_text="The clauses cited by the current questionnaire and by the tier "
                             "checklists of the agents, by framework, in the clauses' order.")


def _coverage(agent: Agent | None, agents) -> Response:
    report = selectors.coverage_report(agents)
    return Response(CoverageSerializer({
        "agent": agent.slug if agent else None, "agent_count": report.agent_count,
        "counts": report.counts, "total": report.total, "frameworks": report.frameworks}).data)


@extend_schema(tags=["risk"])
class CoverageView(APIView):
    @extend_schema(summary="Framework coverage of the portfolio: each clause evidenced, partly "
                           "or missing (compliance, security, auditors and admins)",
                   responses=CoverageSerializer)
    def get(self, request):
        refusal = rules.portfolio_coverage_refusal(signed_in(request.user))
        if refusal is not None:
            raise refusal
        return _coverage(None, selectors.portfolio_agents(request.user))


@extend_schema(tags=["risk"])
class AgentCoverageView(APIView):
    @extend_schema(summary="Framework coverage of one agent: each clause evidenced or missing",
                   responses=CoverageSerializer)
    def get(self, request, slug: str):
        agent = get_object_or_404(agents_visible_to(request.user), slug=slug)
        return _coverage(agent, [agent])
