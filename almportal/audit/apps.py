from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "almportal.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from . import capture, findings_sections, sections

        capture.connect()  # every history row of every app enters the ledger
        sections.register_builtin()
        findings_sections.register()
        post_migrate.connect(capture.append_after_migrate, sender=self,
                             dispatch_uid="audit-append-after-migrate")
