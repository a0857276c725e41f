"""What the releases app does when inventory announces a change: each receiver calls one
service, which holds the rule."""

from . import rules, selectors, services, voiding


def on_component_version_added(sender, component, actor, **kwargs) -> None:
    services.releases_on_component_added(actor=actor, component=component)


def on_agent_changed(sender, agent, actor, changed_fields, **kwargs) -> None:
    services.releases_check_assessment(actor=actor, agent=agent)


def on_tier_policy_changed(sender, policy, actor, **kwargs) -> None:
    voiding.releases_on_policy_change(actor=actor, policy=policy)


def assessment_completion_veto(user, agent):
    """Asked by risk before an assessment is completed: nobody involved completes it."""
    return rules.assessment_refusal(user, selectors.agent_involvement(agent))


def connect() -> None:
    from ..inventory import signals
    from ..risk.signals import tier_policy_changed

    tier_policy_changed.connect(on_tier_policy_changed, dispatch_uid="releases-policy-changed")
    signals.component_version_added.connect(on_component_version_added,
                                            dispatch_uid="releases-component-added")
    signals.agent_changed.connect(on_agent_changed, dispatch_uid="releases-agent-changed")
