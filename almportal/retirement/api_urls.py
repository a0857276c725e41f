from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("decommission-plans", api.DecommissionPlanViewSet, basename="api-decommission-plan")
router.register("decommission-tasks", api.DecommissionTaskViewSet, basename="api-decommission-task")
router.register("archives", api.ArchiveViewSet, basename="api-archive")
urlpatterns = router.urls
