from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "almportal.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import audit_sections

        audit_sections.register()
