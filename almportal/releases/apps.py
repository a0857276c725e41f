from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "almportal.releases"
    label = "releases"
    verbose_name = "Release readiness and sign-off"

    def ready(self) -> None:
        from ..risk.selectors import register_evidence_source
        from ..risk.services import register_completion_veto
        from . import audit_sections, receivers

        receivers.connect()
        register_completion_veto(receivers.assessment_completion_veto)
        audit_sections.register()
        register_evidence_source(audit_sections.checklist_evidence)
