"""What risk announces, for higher apps to react to without risk importing them. Sent inside
the service's transaction, after the change is saved."""

from django.dispatch import Signal

# policy=TierPolicy (as saved), actor=User, reason=str
tier_policy_changed = Signal()
