from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "almportal.enforcement"
    label = "enforcement"
    verbose_name = "Enforcement"

    def ready(self) -> None:
        from ..operations.services.killswitch import register_halt_awaiter
        from .selectors import halt_awaits_gateways

        register_halt_awaiter(halt_awaits_gateways)
