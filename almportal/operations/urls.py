from django.urls import path

from . import views, views_oversight

app_name = "operations"
urlpatterns = [
    path("agents/<slug:slug>/", views.dashboard, name="dashboard"),
    path("agents/<slug:slug>/deployments/", views.deployments, name="deployments"),
    path("agents/<slug:slug>/kill-switch/", views.kill_switch, name="kill-switch"),
    path("agents/<slug:slug>/suspend/", views.agent_suspend, name="agent-suspend"),
    path("agents/<slug:slug>/resume/", views.agent_resume, name="agent-resume"),
    path("agents/<slug:slug>/monitoring/", views.monitoring, name="monitoring"),
    path("agents/<slug:slug>/incidents/new/", views.incident_create, name="incident-create"),
    path("agents/<slug:slug>/telemetry-names/", views.telemetry_name_add,
         name="telemetry-name-add"),
    path("agents/<slug:slug>/releases/<int:number>/telemetry-contract/",
         views.telemetry_contract, name="telemetry-contract"),
    path("deployments/<int:pk>/", views.deployment_detail, name="deployment-detail"),
    path("deployments/<int:pk>/promote/", views.deployment_promote, name="deployment-promote"),
    path("deployments/<int:pk>/rollback/", views.deployment_rollback,
         name="deployment-rollback"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/incident/", views.alert_open_incident, name="alert-incident"),
    path("discovery/", views.finding_list, name="finding-list"),
    path("discovery/<int:pk>/", views.finding_detail, name="finding-detail"),
    path("discovery/<int:pk>/claim/", views.finding_claim, name="finding-claim"),
    path("discovery/<int:pk>/dismiss/", views.finding_dismiss, name="finding-dismiss"),
    path("incidents/", views.incident_list, name="incident-list"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/status/", views.incident_status, name="incident-status"),
    path("incidents/<int:pk>/note/", views.incident_note, name="incident-note"),
    path("incidents/<int:pk>/review/", views.incident_review, name="incident-review"),
    path("incidents/<int:pk>/serious/", views.incident_serious, name="incident-serious"),
    path("incidents/<int:pk>/reported/", views.incident_reported, name="incident-reported"),
]

# Named human overseers and the event log (operations.views_oversight).
urlpatterns += [
    path("agents/<slug:slug>/overseers/", views_oversight.overseers, name="overseers"),
    path("overseers/<int:pk>/end/", views_oversight.overseer_end, name="overseer-end"),
    path("agents/<slug:slug>/event-log/", views_oversight.event_log, name="event-log"),
]
