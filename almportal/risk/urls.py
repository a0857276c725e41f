from django.urls import path

from . import views

app_name = "risk"
urlpatterns = [
    path("", views.index, name="index"),
    path("coverage/", views.coverage, name="coverage"),
    path("questionnaire/", views.questionnaire, name="questionnaire"),
    path("policies/", views.tier_policies, name="tier-policies"),
    path("agents/<slug:slug>/", views.agent_assessments, name="agent-assessments"),
    path("agents/<slug:slug>/assess/", views.assessment_start, name="assessment-start"),
    path("agents/<slug:slug>/coverage/", views.agent_coverage, name="agent-coverage"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment-detail"),
    path("assessments/<int:pk>/edit/", views.assessment_edit, name="assessment-edit"),
    path("assessments/<int:pk>/tier/", views.assessment_set_tier, name="assessment-set-tier"),
]
