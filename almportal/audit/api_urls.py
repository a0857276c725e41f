from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api_findings, api_records
from .api import AgentAsOfView, LedgerEntryViewSet, PackJobViewSet, SignedCheckpointViewSet

router = SimpleRouter()
router.register("audit/ledger", LedgerEntryViewSet, basename="audit-ledger")
router.register("audit/packs", PackJobViewSet, basename="audit-pack")
router.register("audit/checkpoints", SignedCheckpointViewSet, basename="audit-checkpoint")
urlpatterns = [
    *router.urls,
    path("audit/agents/<slug:slug>/as-of/", AgentAsOfView.as_view(), name="audit-agent-as-of"),
]

# Internal audits, management reviews, findings and corrective actions (audit.api_findings).
_findings = SimpleRouter()
_findings.register("audit/internal-audits", api_findings.InternalAuditViewSet,
                   basename="audit-internal-audit")
_findings.register("audit/findings", api_findings.AuditFindingViewSet, basename="audit-finding")
_findings.register("audit/corrective-actions", api_findings.CorrectiveActionViewSet,
                   basename="audit-corrective-action")
urlpatterns += _findings.urls

# Retention holds, verification runs and exports on record (audit.api_records).
_records = SimpleRouter()
_records.register("audit/retention-holds", api_records.RetentionHoldViewSet,
                  basename="audit-retention-hold")
_records.register("audit/verifications", api_records.VerificationRunViewSet,
                  basename="audit-verification")
_records.register("audit/exports", api_records.ExportRecordViewSet, basename="audit-export")
urlpatterns += _records.urls
