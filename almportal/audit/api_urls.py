from rest_framework.routers import SimpleRouter

from .api import LedgerEntryViewSet, PackJobViewSet

router = SimpleRouter()
router.register("audit/ledger", LedgerEntryViewSet, basename="audit-ledger")
router.register("audit/packs", PackJobViewSet, basename="audit-pack")
urlpatterns = router.urls
