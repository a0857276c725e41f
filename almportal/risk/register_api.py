"""The risk register and impact assessment API, under an agent the user may see (else 404):
risks and their treatments, residual-risk acceptance, impact assessment versions and their
signature. Serializers parse and render; risk.register decides and writes."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.models import User
from ..core.api import ReasonSerializer, StrictSerializer, username_field, validated
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from . import register, rules, selectors
from .choices import RiskRating, RiskStatus, TreatmentKind, TreatmentStatus
from .models import ImpactAssessment, ResidualRiskAcceptance, RiskEntry, Treatment

TAGS = ["risk register"]


def _agent(request, slug: str) -> Agent:
    return get_object_or_404(agents_visible_to(request.user), slug=slug)


# --- Rendering -------------------------------------------------------------------------------

class RiskEntrySerializer(serializers.ModelSerializer):
    agent: serializers.SlugRelatedField[Agent] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True)
    owner = username_field(read_only=True)
    recorded_by = username_field(read_only=True)

    class Meta:
        model = RiskEntry
        fields = ("id", "agent", "title", "description", "likelihood", "impact",
                  "inherent_rating", "owner", "status", "recorded_by", "created_at")
        read_only_fields = fields


class TreatmentSerializer(serializers.ModelSerializer):
    owner = username_field(read_only=True)
    recorded_by = username_field(read_only=True)

    class Meta:
        model = Treatment
        fields = ("id", "risk_entry", "kind", "description", "owner", "due_date", "status",
                  "residual_likelihood", "residual_impact", "recorded_by", "created_at")
        read_only_fields = fields


class AcceptanceSerializer(serializers.ModelSerializer):
    accepted_by = username_field(read_only=True)

    class Meta:
        model = ResidualRiskAcceptance
        fields = ("id", "accepted_by", "statement", "residual_rating", "content_hash",
                  "signed_at")
        read_only_fields = fields


class RegisterRowSerializer(serializers.Serializer):
    risk = RiskEntrySerializer(source="entry")
    treatments = TreatmentSerializer(many=True)
    residual_rating = serializers.ChoiceField(choices=RiskRating.choices)
    acceptance = AcceptanceSerializer(allow_null=True, help_text="The latest acceptance.")
    acceptance_matches = serializers.BooleanField(
        help_text="Whether the latest acceptance was signed on the risk and treatments as they "
                  "stand now.")


class ImpactAssessmentSerializer(serializers.ModelSerializer):
    agent: serializers.SlugRelatedField[Agent] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True)
    drafted_by = username_field(read_only=True)
    signed_by = username_field(read_only=True)

    class Meta:
        model = ImpactAssessment
        fields = ("agent", "number", *rules.IMPACT_FIELDS, "state", "content_hash",
                  "drafted_by", "signed_by", "signed_at", "created_at")
        read_only_fields = fields


# --- Input -----------------------------------------------------------------------------------

def _scale(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=5, **kwargs)


def _people(**kwargs) -> serializers.SlugRelatedField:
    return username_field(queryset=User.objects.filter(is_active=True), **kwargs)


def _reason() -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class RiskEntryInputSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    likelihood = _scale(help_text="1 (rare) to 5 (almost certain).")
    impact = _scale(help_text="1 (minor) to 5 (severe).")
    owner = _people(required=False, help_text="Username; the agent's business owner if left "
                                              "out.")
    status = serializers.ChoiceField(choices=RiskStatus.choices, required=False,
                                     help_text="Updates only: closed to close the risk, open to "
                                               "reopen it (treated and accepted follow from its "
                                               "treatments and acceptance).")
    reason = _reason()


class TreatmentInputSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=TreatmentKind.choices)
    description = serializers.CharField(max_length=4000)
    owner = _people(required=False, help_text="Username; the risk's owner if left out.")
    due_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=TreatmentStatus.choices, required=False)
    residual_likelihood = _scale()
    residual_impact = _scale()
    reason = _reason()


class AcceptanceInputSerializer(StrictSerializer):
    statement = serializers.CharField(max_length=4000)
    reason = _reason()


class ImpactInputSerializer(StrictSerializer):
    affected_people = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    affected_groups = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    fundamental_rights_risks = serializers.CharField(required=False, allow_blank=True,
                                                     max_length=4000)
    mitigations = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    oversight_measures = serializers.CharField(required=False, allow_blank=True,
                                               max_length=4000)
    reason = _reason()


def _split(data: dict) -> tuple[dict, str]:
    data = dict(data)
    return data, data.pop("reason", "")


# --- Views -----------------------------------------------------------------------------------

def _row(agent: Agent, pk: int, code: int = status.HTTP_200_OK) -> Response:
    rows = selectors.register_rows(agent, pk=pk)
    return Response(RegisterRowSerializer(rows[0]).data, status=code)


class AgentRisksView(APIView):
    @extend_schema(tags=TAGS, summary="The agent's risk register",
                   responses=RegisterRowSerializer(many=True))
    def get(self, request, slug):
        rows = selectors.register_rows(_agent(request, slug))
        return Response(RegisterRowSerializer(rows, many=True).data)

    @extend_schema(tags=TAGS, summary="Record a risk (the agent's owner, a delegate, compliance "
                                      "or an admin)",
                   request=RiskEntryInputSerializer, responses={201: RegisterRowSerializer})
    def post(self, request, slug):
        agent = _agent(request, slug)
        data, reason = _split(validated(RiskEntryInputSerializer, request))
        data.pop("status", None)
        entry = register.risk_entry_create(actor=request.user, agent=agent, data=data,
                                           reason=reason)
        return _row(agent, entry.pk, status.HTTP_201_CREATED)


class RiskEntryView(APIView):
    @extend_schema(tags=TAGS, summary="One risk with its treatments and acceptance",
                   responses=RegisterRowSerializer)
    def get(self, request, slug, pk):
        agent = _agent(request, slug)
        get_object_or_404(RiskEntry, agent=agent, pk=pk)
        return _row(agent, pk)

    @extend_schema(tags=TAGS, summary="Edit, close or reopen a risk",
                   request=RiskEntryInputSerializer, responses=RegisterRowSerializer)
    def patch(self, request, slug, pk):
        agent = _agent(request, slug)
        entry = get_object_or_404(RiskEntry, agent=agent, pk=pk)
        data, reason = _split(validated(RiskEntryInputSerializer, request, partial=True))
        register.risk_entry_update(actor=request.user, entry=entry, data=data, reason=reason)
        return _row(agent, pk)


class RiskTreatmentsView(APIView):
    @extend_schema(tags=TAGS, summary="Record a treatment of a risk",
                   request=TreatmentInputSerializer, responses={201: TreatmentSerializer})
    def post(self, request, slug, pk):
        entry = get_object_or_404(RiskEntry, agent=_agent(request, slug), pk=pk)
        data, reason = _split(validated(TreatmentInputSerializer, request))
        treatment = register.treatment_create(actor=request.user, entry=entry, data=data,
                                              reason=reason)
        return Response(TreatmentSerializer(treatment).data, status=status.HTTP_201_CREATED)


class TreatmentView(APIView):
    @extend_schema(tags=TAGS, summary="Edit a treatment (its status, residual rating…)",
                   request=TreatmentInputSerializer, responses=TreatmentSerializer)
    def patch(self, request, slug, pk):
        treatment = get_object_or_404(Treatment, risk_entry__agent=_agent(request, slug), pk=pk)
        data, reason = _split(validated(TreatmentInputSerializer, request, partial=True))
        treatment = register.treatment_update(actor=request.user, treatment=treatment,
                                              data=data, reason=reason)
        return Response(TreatmentSerializer(treatment).data)


class AcceptanceView(APIView):
    @extend_schema(tags=TAGS, summary="Accept the residual risk as it stands (the business "
                                      "owner, or compliance; above medium an independent "
                                      "compliance officer)",
                   request=AcceptanceInputSerializer, responses={201: AcceptanceSerializer})
    def post(self, request, slug, pk):
        entry = get_object_or_404(RiskEntry, agent=_agent(request, slug), pk=pk)
        data = validated(AcceptanceInputSerializer, request)
        acceptance = register.acceptance_sign(actor=request.user, entry=entry,
                                              statement=data["statement"],
                                              reason=data["reason"])
        return Response(AcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)


class ImpactAssessmentsView(APIView):
    @extend_schema(tags=TAGS, summary="The agent's impact assessment versions, newest first",
                   responses=ImpactAssessmentSerializer(many=True))
    def get(self, request, slug):
        versions = selectors.impact_assessments(_agent(request, slug))
        return Response(ImpactAssessmentSerializer(versions, many=True).data)

    @extend_schema(tags=TAGS, summary="Change the impact assessment: the open draft, or a new "
                                      "version from the latest (201)",
                   request=ImpactInputSerializer,
                   responses={200: ImpactAssessmentSerializer, 201: ImpactAssessmentSerializer})
    def post(self, request, slug):
        agent = _agent(request, slug)
        data, reason = _split(validated(ImpactInputSerializer, request))
        version, made = register.impact_assessment_save(actor=request.user, agent=agent,
                                                        data=data, reason=reason)
        return Response(ImpactAssessmentSerializer(version).data,
                        status=status.HTTP_201_CREATED if made else status.HTTP_200_OK)


def _version(request, slug: str, number: int) -> ImpactAssessment:
    return get_object_or_404(ImpactAssessment, agent=_agent(request, slug), number=number)


class ImpactAssessmentView(APIView):
    @extend_schema(tags=TAGS, summary="One impact assessment version",
                   responses=ImpactAssessmentSerializer)
    def get(self, request, slug, number):
        return Response(ImpactAssessmentSerializer(_version(request, slug, number)).data)


class ImpactSignView(APIView):
    @extend_schema(tags=TAGS, summary="Sign a version (the business owner or compliance): it "
                                      "is frozen with its content hash",
                   request=ReasonSerializer,
                   responses=ImpactAssessmentSerializer)
    def post(self, request, slug, number):
        reason = validated(ReasonSerializer, request)["reason"]
        version = register.impact_assessment_sign(actor=request.user,
                                                  assessment=_version(request, slug, number),
                                                  reason=reason)
        return Response(ImpactAssessmentSerializer(version).data)


PREFIX = "risk/agents/<slug:slug>/"
urlpatterns = [
    path(f"{PREFIX}risks/", AgentRisksView.as_view(), name="api-risk-register"),
    path(f"{PREFIX}risks/<int:pk>/", RiskEntryView.as_view(), name="api-risk-entry"),
    path(f"{PREFIX}risks/<int:pk>/treatments/", RiskTreatmentsView.as_view(),
         name="api-risk-treatments"),
    path(f"{PREFIX}risks/<int:pk>/accept/", AcceptanceView.as_view(), name="api-risk-accept"),
    path(f"{PREFIX}treatments/<int:pk>/", TreatmentView.as_view(), name="api-risk-treatment"),
    path(f"{PREFIX}impact-assessments/", ImpactAssessmentsView.as_view(),
         name="api-impact-assessments"),
    path(f"{PREFIX}impact-assessments/<int:number>/", ImpactAssessmentView.as_view(),
         name="api-impact-assessment"),
    path(f"{PREFIX}impact-assessments/<int:number>/sign/", ImpactSignView.as_view(),
         name="api-impact-assessment-sign"),
]
