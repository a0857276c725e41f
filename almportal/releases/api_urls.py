from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("releases", api.ReleaseViewSet, basename="api-release")
router.register("checklist-items", api.ChecklistItemViewSet, basename="checklist-item")
router.register("evaluation-suites", api.EvaluationSuiteViewSet, basename="evaluation-suite")
router.register("evaluation-runs", api.EvaluationRunViewSet, basename="evaluation-run")
router.register("signoffs", api.SignOffViewSet, basename="signoff")
urlpatterns = [
    path("releases/<int:pk>/gate/", api.ReleaseGateView.as_view(), name="release-gate"),
    path("releases/<int:pk>/signing/", api.ReleaseSigningView.as_view(),
         name="release-signing"),
    path("evidence/<int:pk>/download/", api.EvidenceDownloadView.as_view(),
         name="api-evidence-download"),
    *router.urls,
]
