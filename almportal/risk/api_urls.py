from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, register_api

router = SimpleRouter()
router.register("risk/assessments", api.AssessmentViewSet, basename="api-risk-assessment")
router.register("risk/questionnaires", api.QuestionnaireViewSet,
                basename="api-risk-questionnaire")
router.register("risk/tier-policies", api.TierPolicyViewSet, basename="api-risk-tier-policy")
urlpatterns = [
    path("risk/coverage/", api.CoverageView.as_view(), name="api-risk-coverage"),
    path("risk/agents/<slug:slug>/coverage/", api.AgentCoverageView.as_view(),
         name="api-risk-agent-coverage"),
    *router.urls,
]

# The risk register and impact assessment of one agent (risk.register_api).
urlpatterns += register_api.urlpatterns
