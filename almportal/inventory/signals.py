"""What inventory announces, for higher apps to react to without inventory importing them.
Sent inside the service's transaction, after the change is saved."""

from django.dispatch import Signal

# agent=Agent, actor=User, changed_fields=set[str]
agent_changed = Signal()
# component=ComponentVersion (the new version), actor=User
component_version_added = Signal()
