from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("reviews/access-reviews", api.AccessReviewViewSet, basename="api-access-review")
router.register("reviews/revocation-tasks", api.RevocationTaskViewSet,
                basename="api-revocation-task")
router.register("reviews/ownerless", api.OwnerlessAgentViewSet, basename="api-ownerless-agent")
urlpatterns = [
    *router.urls,
    path("work/", api.WorkView.as_view(), name="api-work"),
]
