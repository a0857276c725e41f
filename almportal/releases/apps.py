from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "almportal.releases"
    label = "releases"
    verbose_name = "Release readiness and sign-off"

    def ready(self) -> None:
        from ..risk.selectors import register_evidence_source
        from . import audit_sections, receivers

        receivers.connect()
        audit_sections.register()
        register_evidence_source(audit_sections.checklist_evidence)
