from rest_framework.routers import SimpleRouter

from . import api_findings
from .api import LedgerEntryViewSet, PackJobViewSet, SignedCheckpointViewSet

router = SimpleRouter()
router.register("audit/ledger", LedgerEntryViewSet, basename="audit-ledger")
router.register("audit/packs", PackJobViewSet, basename="audit-pack")
router.register("audit/checkpoints", SignedCheckpointViewSet, basename="audit-checkpoint")
urlpatterns = router.urls

# Internal audits, management reviews, findings and corrective actions (audit.api_findings).
_findings = SimpleRouter()
_findings.register("audit/internal-audits", api_findings.InternalAuditViewSet,
                   basename="audit-internal-audit")
_findings.register("audit/findings", api_findings.AuditFindingViewSet, basename="audit-finding")
_findings.register("audit/corrective-actions", api_findings.CorrectiveActionViewSet,
                   basename="audit-corrective-action")
urlpatterns += _findings.urls
