from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import ApiTokenViewSet, GroupRoleMappingViewSet, NotificationViewSet, SignInUnlockView

router = SimpleRouter()
router.register("tokens", ApiTokenViewSet, basename="api-token")
router.register("notifications", NotificationViewSet, basename="api-notification")
router.register("identity/group-roles", GroupRoleMappingViewSet, basename="api-group-role")
urlpatterns = [
    *router.urls,
    path("identity/unlock/", SignInUnlockView.as_view(), name="api-sign-in-unlock"),
]
