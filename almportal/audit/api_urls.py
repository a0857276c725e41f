from rest_framework.routers import SimpleRouter

from .api import LedgerEntryViewSet

router = SimpleRouter()
router.register("audit/ledger", LedgerEntryViewSet, basename="audit-ledger")
urlpatterns = router.urls
