from django.urls import path

from . import views

app_name = "retirement"
urlpatterns = [
    path("", views.plan_list, name="plan-list"),
    path("agents/<slug:slug>/start/", views.plan_start, name="plan-start"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/signoff/", views.plan_signoff, name="plan-signoff"),
    path("plans/<int:pk>/retire/", views.plan_retire, name="plan-retire"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
    path("tasks/<int:pk>/run/", views.task_run, name="task-run"),
    path("tasks/<int:pk>/assign/", views.task_assign, name="task-assign"),
    path("archives/<int:pk>/download/", views.archive_download, name="archive-download"),
    path("archives/<int:pk>/hold/", views.archive_hold, name="archive-hold"),
]
