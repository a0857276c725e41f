from rest_framework.routers import SimpleRouter

from .api import ApiTokenViewSet, NotificationViewSet

router = SimpleRouter()
router.register("tokens", ApiTokenViewSet, basename="api-token")
router.register("notifications", NotificationViewSet, basename="api-notification")
urlpatterns = router.urls
