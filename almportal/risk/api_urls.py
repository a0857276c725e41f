from rest_framework.routers import SimpleRouter

from . import api, register_api

router = SimpleRouter()
router.register("risk/assessments", api.AssessmentViewSet, basename="api-risk-assessment")
router.register("risk/questionnaires", api.QuestionnaireViewSet,
                basename="api-risk-questionnaire")
router.register("risk/tier-policies", api.TierPolicyViewSet, basename="api-risk-tier-policy")
urlpatterns = router.urls

# The risk register and impact assessment of one agent (risk.register_api).
urlpatterns += register_api.urlpatterns
