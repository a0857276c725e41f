from django.urls import path

from . import api

urlpatterns = [
    path("enforcement/agents/<slug:slug>/policy/", api.PolicyView.as_view(),
         name="enforcement-policy"),
    path("enforcement/agents/<slug:slug>/policy/revision/", api.RevisionReportView.as_view(),
         name="enforcement-revision"),
    path("enforcement/agents/<slug:slug>/gateways/", api.AgentGatewaysView.as_view(),
         name="enforcement-gateways"),
    path("enforcement/agents/<slug:slug>/oscal-assessment-results/",
         api.AssessmentResultsView.as_view(), name="enforcement-oscal"),
]
