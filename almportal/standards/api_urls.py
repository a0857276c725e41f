from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("agent-imports", api.ImportViewSet, basename="api-agent-import")
router.register("card-watches", api.WatchViewSet, basename="api-card-watch")
router.register("drift-findings", api.DriftFindingViewSet, basename="api-drift-finding")
urlpatterns = router.urls
