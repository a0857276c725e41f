from django.urls import path

from . import views

app_name = "reviews"
urlpatterns = [
    path("", views.review_list, name="review-list"),
    path("my-work/", views.my_work, name="my-work"),
    path("<int:pk>/", views.review_detail, name="review-detail"),
    path("<int:pk>/certify/", views.review_certify, name="review-certify"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
    path("ownerless/", views.ownerless_queue, name="ownerless"),
    path("ownerless/<slug:slug>/reassign/", views.ownerless_reassign_view, name="reassign"),
]
