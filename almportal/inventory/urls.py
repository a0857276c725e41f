from django.urls import path

from . import views

app_name = "inventory"
urlpatterns = [
    path("", views.agent_list, name="agent-list"),
    path("new/", views.agent_create, name="agent-create"),
    path("intake-queue/", views.intake_queue, name="intake-queue"),
    path("<slug:slug>/", views.agent_detail, name="agent-detail"),
    path("<slug:slug>/edit/", views.agent_edit, name="agent-edit"),
    path("<slug:slug>/submit/", views.agent_submit, name="agent-submit"),
    path("<slug:slug>/withdraw/", views.agent_withdraw, name="agent-withdraw"),
    path("<slug:slug>/accept/", views.agent_accept, name="agent-accept"),
    path("<slug:slug>/decline/", views.agent_decline, name="agent-decline"),
    path("<slug:slug>/delegates/add/", views.delegate_add, name="delegate-add"),
    path("<slug:slug>/delegates/<int:user_id>/remove/", views.delegate_remove,
         name="delegate-remove"),
    path("<slug:slug>/service-accounts/", views.service_accounts, name="service-accounts"),
    path("<slug:slug>/components/<str:kind>/new/", views.component_create,
         name="component-create"),
    path("<slug:slug>/credentials/<int:pk>/revoke/", views.credential_revoke,
         name="credential-revoke"),
]
