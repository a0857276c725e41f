from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, api_manage, api_oversight

router = SimpleRouter()
router.register("deployments", api_manage.DeploymentViewSet, basename="deployment")
router.register("alerts", api_manage.AlertViewSet, basename="alert")
router.register("incidents", api_manage.IncidentViewSet, basename="incident")
router.register("discovery-findings", api_manage.FindingViewSet, basename="discovery-finding")
urlpatterns = [
    path("runtime/agents/<slug:slug>/", api.RuntimeStatusView.as_view(), name="runtime-status"),
    path("ingest/samples/", api.IngestSamplesView.as_view(), name="ingest-samples"),
    path("otlp/v1/metrics", api.OtlpMetricsView.as_view(), name="otlp-metrics"),
    path("agents/<slug:slug>/suspend/", api_manage.AgentSuspendView.as_view(),
         name="agent-suspend"),
    path("agents/<slug:slug>/resume/", api_manage.AgentResumeView.as_view(),
         name="agent-resume"),
    path("agents/<slug:slug>/monitoring/", api_manage.AgentMonitoringView.as_view(),
         name="agent-monitoring"),
    path("agents/<slug:slug>/runtime-polls/", api_manage.AgentRuntimePollsView.as_view(),
         name="agent-runtime-polls"),
    path("agents/<slug:slug>/metrics/", api_manage.AgentMetricsView.as_view(),
         name="agent-metrics"),
    path("agents/<slug:slug>/telemetry-names/", api_manage.AgentTelemetryNameView.as_view(),
         name="agent-telemetry-names"),
    path("agents/<slug:slug>/releases/<int:number>/telemetry-contract/",
         api_manage.TelemetryContractView.as_view(), name="telemetry-contract"),
    *router.urls,
]

# Named human overseers and the event log (operations.api_oversight).
_oversight = SimpleRouter()
_oversight.register("overseers", api_oversight.OverseerViewSet, basename="overseer")
_oversight.register("event-log", api_oversight.EventLogViewSet, basename="event-log")
urlpatterns += _oversight.urls
