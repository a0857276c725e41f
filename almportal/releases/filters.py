"""One filter and sort definition for the list of releases under sign-off and the releases API."""

import django_filters

from ..core.forms import Chips, QuickInput
from ..core.keyset import Sort
from ..inventory.choices import RiskTier
from .choices import ReleaseState
from .models import Release
from .selectors import UNDER_APPROVAL

# The list's columns and what each sorts by (?sort=<key> on the page, ?ordering=<key> in the
# API; "-<key>" for descending). A draft, never submitted, sorts by when it was drafted.
RELEASE_SORTS = {
    "release": Sort("Release", "agent__name"),
    "state": Sort("State", "state", tuple(ReleaseState.values)),
    "tier": Sort("Tier", "agent__risk_tier", tuple(RiskTier.values)),
    "checklist": Sort("Checklist"),
    "approvals": Sort("Approvals"),
    "submitted": Sort("Submitted", "submitted_at", fallback="created_at"),
}
DEFAULT_SORT = "-submitted"


class ReleaseFilter(django_filters.FilterSet):
    """Choices are chips (checkboxes): each a click, several at once."""

    agent = django_filters.CharFilter(field_name="agent__slug", label="Agent (slug)",
                                      widget=QuickInput)
    state = django_filters.MultipleChoiceFilter(choices=ReleaseState.choices, widget=Chips)
    tier = django_filters.MultipleChoiceFilter(field_name="agent__risk_tier",
                                               choices=RiskTier.choices, label="Tier",
                                               widget=Chips)

    class Meta:
        model = Release
        fields = ["agent", "state", "tier"]


class UnderApprovalFilter(ReleaseFilter):
    """The page lists releases under sign-off: its state chips are those two states."""

    state = django_filters.MultipleChoiceFilter(
        choices=[(s.value, s.label) for s in UNDER_APPROVAL], widget=Chips)
