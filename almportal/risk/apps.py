from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class RiskConfig(AppConfig):
    name = "almportal.risk"
    label = "risk"
    verbose_name = "Risk assessment"

    def ready(self) -> None:
        from ..inventory.services import accept_guard
        from . import audit_sections
        from .services import refuse_unacceptable_agent

        # An agent whose latest completed assessment is unacceptable is not accepted (nor
        # released: releases asks refuse_unacceptable_agent itself).
        accept_guard.register(refuse_unacceptable_agent)
        for model in ("inventory.Agent", "inventory.Tool", "inventory.DataSource",
                      "inventory.Credential"):
            post_save.connect(mark_changed_assessments, sender=model,
                              dispatch_uid=f"risk-attributes-{model}")
        audit_sections.register()  # the risk register and impact assessment in every pack
        from .selectors import forget_policies

        for signal in (post_save, post_delete):  # whatever path changes a tier's policy
            signal.connect(forget_policies, sender="risk.TierPolicy",
                           dispatch_uid=f"risk-forget-policies-{signal}")


def mark_changed_assessments(sender, instance, **kwargs) -> None:
    """Whatever path changes an agent's risk-relevant attributes (its record, a tool, a data
    source, a grant revoked), the derived staleness of its assessments follows."""
    from .services import assessments_mark_changed

    assessments_mark_changed(getattr(instance, "agent_id", None) or instance.pk)
