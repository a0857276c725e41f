from django.apps import AppConfig
from django.db.models.signals import post_save


class OperationsConfig(AppConfig):
    name = "almportal.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import audit_sections

        audit_sections.register()
        for model in ("inventory.Agent", "operations.Deployment", "operations.Route"):
            post_save.connect(forget_runtime_status, sender=model,
                              dispatch_uid=f"forget-runtime-status-{model}")
        post_save.connect(forget_runtime_environment, sender="operations.Environment",
                          dispatch_uid="forget-runtime-environment")


def forget_runtime_status(sender, instance, **kwargs) -> None:
    """Whatever service saves an agent, a deployment or a route, the cached runtime status
    of the agent is rebuilt: no change can be missed by a path that forgets to say so."""
    from .services import runtime_forget

    agent_id = getattr(instance, "agent_id", None)
    if agent_id is None and hasattr(instance, "deployment_id"):
        agent_id = instance.deployment.agent_id
    runtime_forget(agent_id if agent_id is not None else instance.pk)


def forget_runtime_environment(sender, instance, **kwargs) -> None:
    from .services import runtime_forget_environment

    runtime_forget_environment(instance)
