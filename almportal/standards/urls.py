from django.urls import path

from . import views

app_name = "standards"
urlpatterns = [
    path("import/", views.import_new, name="import-new"),
    path("imports/", views.import_list, name="import-list"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import-confirm"),
    path("agents/<slug:slug>/watches/", views.agent_watches, name="agent-watches"),
    path("watches/<int:pk>/", views.watch_detail, name="watch-detail"),
    path("watches/<int:pk>/poll/", views.watch_poll, name="watch-poll"),
    path("watches/<int:pk>/active/", views.watch_active, name="watch-active"),
    path("findings/", views.finding_list, name="finding-list"),
    path("findings/<int:pk>/", views.finding_detail, name="finding-detail"),
    path("findings/<int:pk>/close/", views.finding_close, name="finding-close"),
    # Published for peers, without signing in (approved and deployed releases only).
    path("cards/<slug:slug>/<int:number>/agent-card.json", views.card, name="card"),
    path("cards/<slug:slug>/<int:number>/oasf.json", views.oasf, name="oasf"),
    path("cards/<slug:slug>/<int:number>/mcp/<path:tool>/server.json", views.server_json,
         name="server-json"),
]
