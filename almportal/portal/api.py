"""The portfolio overview over the API: the page's figures as numbers, for dashboards and
reports outside the portal."""

from datetime import timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.permissions import signed_in
from .portfolio import portfolio


@extend_schema_field(OpenApiTypes.DOUBLE)
class SecondsField(serializers.Field):
    """A duration as a number of seconds (null when there is none)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value: timedelta) -> float:
        return value.total_seconds()


class BarSerializer(serializers.Serializer):
    # The metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    value = serializers.FloatField()
    limit = serializers.FloatField(allow_null=True, help_text="A budget, where the chart has one.")
    url = serializers.CharField(help_text="The page behind the bar, if any.")


class ChartSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.CharField(source="unit_label")
    bars = BarSerializer(many=True)


class FastApprovalSerializer(serializers.Serializer):
    signoff = serializers.IntegerField(source="signoff.pk")
    release = serializers.IntegerField(source="signoff.release_id")
    agent = serializers.CharField(source="signoff.release.agent.slug")
    reviewer = serializers.CharField(source="signoff.user.username")
    role = serializers.CharField(source="signoff.role")
    submitted_at = serializers.DateTimeField(source="signoff.release.submitted_at")
    approved_at = serializers.DateTimeField(source="signoff.created_at")
    took_seconds = SecondsField(source="took")


class OversightSerializer(serializers.Serializer):
    waiting = serializers.IntegerField(help_text="Releases waiting for sign-off.")
    median_wait_seconds = SecondsField(source="median_wait")
    median_approval_seconds = SecondsField(source="median_approval")
    fast_approvals_total = serializers.IntegerField(source="fast.total")
    fast_approvals = FastApprovalSerializer(many=True, source="fast",
                                            help_text="The fastest first, at most fifty.")
    signoffs = ChartSerializer(source="signoffs_chart")
    queue = ChartSerializer(source="queue_chart")


class PortfolioSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(["fleet", "own"], help_text=(
        "fleet: every agent in the portal; own: the agents the caller owns or is a delegate on."))
    charts = ChartSerializer(many=True, help_text="Agents by stage and by risk tier, releases "
                                                  "per month, incidents by severity.")
    cost = ChartSerializer()
    oversight = OversightSerializer()
    fast_approval_seconds = SecondsField(
        source="fast_approval",
        help_text="An approval given sooner than this after submission is unusually fast.")
    far_below_median_percent = serializers.IntegerField(
        source="far_below_median",
        help_text="Or sooner than this share of the median time approvals take.")


class PortfolioAPI(APIView):
    """The portfolio overview's figures over every agent the caller may see."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["portfolio"], summary="The portfolio overview: charts and oversight load",
                   responses=PortfolioSerializer)
    def get(self, request: Request) -> Response:
        figures = portfolio(signed_in(request.user))
        return Response(PortfolioSerializer(figures).data)
