from django.apps import AppConfig


class RetirementConfig(AppConfig):
    name = "almportal.retirement"
    label = "retirement"
    verbose_name = "Decommissioning"

    def ready(self) -> None:
        from . import audit_sections

        audit_sections.register()
