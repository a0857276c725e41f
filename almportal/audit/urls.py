from django.urls import path, re_path

from . import views, views_findings

app_name = "audit"
urlpatterns = [
    path("", views.home, name="home"),
    path("history/", views.history, name="history"),
    path("entries/<int:seq>/", views.entry, name="entry"),
    re_path(r"^export\.(?P<fmt>csv|jsonl)$", views.export, name="export"),
    path("verify/", views.verify, name="verify"),
    path("verify/file/", views.verify_file, name="verify-file"),
    path("signing-key.pem", views.signing_key, name="signing-key"),
    path("evidence-pack.zip", views.portfolio_pack, name="portfolio-pack"),
    path("packs/<int:pk>/", views.pack_job, name="pack-job"),
    path("packs/<int:pk>/download/", views.pack_job_download, name="pack-job-download"),
    path("agents/<slug:slug>/as-of/", views.agent_as_of_view, name="as-of"),
    path("agents/<slug:slug>/evidence-pack.zip", views.agent_pack, name="agent-pack"),
    path("agents/<slug:slug>/retention/", views.retention, name="retention"),
    path("agents/<slug:slug>/retention/<int:pk>/release/", views.retention_release,
         name="retention-release"),
]

# Internal audits, management reviews, findings and corrective actions (audit.views_findings).
urlpatterns += [
    path("audits/", views_findings.audit_list, name="internal-audits"),
    path("audits/<int:pk>/", views_findings.audit_detail, name="internal-audit"),
    path("audits/<int:pk>/move/", views_findings.audit_move, name="internal-audit-move"),
    path("findings/<int:pk>/", views_findings.finding_detail, name="finding"),
    path("findings/<int:pk>/actions/", views_findings.action_assign, name="action-assign"),
    path("actions/<int:pk>/record/", views_findings.action_record, name="action-record"),
    path("actions/<int:pk>/verify/", views_findings.action_verify, name="action-verify"),
]
