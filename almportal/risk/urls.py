from django.urls import path

from . import register_views, views

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

# The risk register and impact assessment of one agent (risk.register_views).
urlpatterns += [
    path("agents/<slug:slug>/register/", register_views.register_page, name="register"),
    path("agents/<slug:slug>/register/<int:pk>/", register_views.risk_entry, name="risk-entry"),
    path("agents/<slug:slug>/register/<int:pk>/edit/", register_views.risk_entry_edit,
         name="risk-entry-edit"),
    path("agents/<slug:slug>/register/<int:pk>/status/", register_views.risk_entry_status,
         name="risk-entry-status"),
    path("agents/<slug:slug>/register/<int:pk>/treatments/", register_views.treatment_add,
         name="treatment-add"),
    path("agents/<slug:slug>/register/treatments/<int:pk>/status/",
         register_views.treatment_status, name="treatment-status"),
    path("agents/<slug:slug>/register/<int:pk>/accept/", register_views.acceptance_sign,
         name="acceptance-sign"),
    path("agents/<slug:slug>/impact/", register_views.impact_page, name="impact"),
    path("agents/<slug:slug>/impact/<int:number>/", register_views.impact_detail,
         name="impact-detail"),
    path("agents/<slug:slug>/impact/<int:number>/sign/", register_views.impact_sign,
         name="impact-sign"),
]
