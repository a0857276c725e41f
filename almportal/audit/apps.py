from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "almportal.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from . import capture, sections

        capture.connect()  # every history row of every app enters the ledger
        sections.register_builtin()
