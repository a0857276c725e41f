"""Release pages. A release has one page, under its agent (/agents/<slug>/releases/<number>/),
with its checklist items and evidence beneath it; the addresses under /releases/<pk>/ that
it had before answer 301 to it."""

from django.urls import include, path

from . import checklist_views, views

one_release = [
    path("", views.release_detail, name="release-detail"),
    path("edit/", views.release_edit, name="release-edit"),
    path("submit/", views.release_submit, name="release-submit"),
    path("sign/", views.release_sign, name="release-sign"),
    path("suites/new/", views.suite_create, name="suite-create"),
    path("runs/new/", views.run_create, name="run-create"),
    path("checklist/", checklist_views.checklist_bulk, name="checklist-bulk"),
    path("items/<int:pk>/", views.item_detail, name="item-detail"),
    path("items/<int:pk>/status/", views.item_status, name="item-status"),
    path("items/<int:pk>/evidence/", views.evidence_add, name="evidence-add"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence-download"),
]

app_name = "releases"
urlpatterns = [
    path("releases/", views.release_list, name="release-list"),
    path("releases/inbox/", views.inbox, name="inbox"),
    path("agents/<slug:slug>/releases/new/", views.release_create, name="release-create"),
    path("agents/<slug:slug>/releases/compare/", views.release_compare, name="release-compare"),
    path("agents/<slug:slug>/releases/<int:number>/", include(one_release)),
    # Former addresses of release pages: each answers 301 to where the page is now.
    path("releases/<int:pk>/", views.moved_release, name="moved-release"),
    path("releases/items/<int:pk>/", views.moved_item, name="moved-item"),
    path("releases/evidence/<int:pk>/download/", views.moved_evidence, name="moved-evidence"),
]
