from django.urls import path

from . import views

app_name = "enforcement"
urlpatterns = [
    path("agents/<slug:slug>/oscal-assessment-results.json", views.assessment_results,
         name="oscal-assessment-results"),
]
