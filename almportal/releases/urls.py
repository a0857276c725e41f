from django.urls import path

from . import views

app_name = "releases"
urlpatterns = [
    path("", views.release_list, name="release-list"),
    path("inbox/", views.inbox, name="inbox"),
    path("<int:pk>/", views.release_detail, name="release-detail"),
    path("<int:pk>/sign/", views.release_sign, name="release-sign"),
    path("<int:pk>/suites/new/", views.suite_create, name="suite-create"),
    path("<int:pk>/runs/new/", views.run_create, name="run-create"),
    path("items/<int:pk>/", views.item_detail, name="item-detail"),
    path("items/<int:pk>/status/", views.item_status, name="item-status"),
    path("items/<int:pk>/evidence/", views.evidence_add, name="evidence-add"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence-download"),
]
