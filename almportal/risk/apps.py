from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "almportal.risk"
    label = "risk"
    verbose_name = "Risk assessment"

    def ready(self) -> None:
        from ..inventory.services import accept_guard, submit_guard
        from .services import refuse_unacceptable_agent, refuse_unacceptable_release

        # An agent whose latest completed assessment is unacceptable is neither accepted
        # nor released.
        accept_guard.register(refuse_unacceptable_agent)
        submit_guard.register(refuse_unacceptable_release)
