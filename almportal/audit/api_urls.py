from rest_framework.routers import SimpleRouter

from .api import LedgerEntryViewSet, PackJobViewSet, SignedCheckpointViewSet

router = SimpleRouter()
router.register("audit/ledger", LedgerEntryViewSet, basename="audit-ledger")
router.register("audit/packs", PackJobViewSet, basename="audit-pack")
router.register("audit/checkpoints", SignedCheckpointViewSet, basename="audit-checkpoint")
urlpatterns = router.urls
