from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
urlpatterns = [
    path("runtime/agents/<slug:slug>/", api.RuntimeStatusView.as_view(), name="runtime-status"),
    path("ingest/samples/", api.IngestSamplesView.as_view(), name="ingest-samples"),
    *router.urls,
]
