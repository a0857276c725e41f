"""One filter definition for the inventory list page and the agents API."""

import django_filters
from django.db.models import Q

from ..accounts.models import User
from ..core.forms import Chips, QuickInput, QuickSelect
from ..core.keyset import Sort
from .choices import AutonomyLevel, DataClassification, RiskTier, Stage
from .models import Agent

# The list's columns and what each sorts by (?sort=<key>, "-<key>" for descending).
AGENT_SORTS = {
    "name": Sort("Agent", "name"),
    "stage": Sort("Stage", "stage", tuple(Stage.values)),
    "tier": Sort("Tier", "risk_tier", tuple(RiskTier.values)),
    "owner": Sort("Owner"),
    "unit": Sort("Business unit", "business_unit"),
    "autonomy": Sort("Autonomy", "autonomy_level", tuple(AutonomyLevel.values)),
    "data": Sort("Data", "data_classification", tuple(DataClassification.values)),
}


class AgentFilter(django_filters.FilterSet):
    """Choices are chips (checkboxes): each a click, several at once."""

    q = django_filters.CharFilter(method="search", label="Search", widget=QuickInput)
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, widget=Chips)
    risk_tier = django_filters.MultipleChoiceFilter(choices=RiskTier.choices, label="Tier",
                                                    widget=Chips)
    owner = django_filters.ModelChoiceFilter(
        field_name="business_owner", queryset=User.objects.filter(is_service_account=False),
        label="Owner", widget=QuickSelect)
    business_unit = django_filters.CharFilter(lookup_expr="iexact", widget=QuickInput)
    autonomy_level = django_filters.MultipleChoiceFilter(choices=AutonomyLevel.choices,
                                                         label="Autonomy", widget=Chips)
    data_classification = django_filters.MultipleChoiceFilter(choices=DataClassification.choices,
                                                              label="Data", widget=Chips)
    tag = django_filters.CharFilter(method="has_tag", label="Tag", widget=QuickInput)

    class Meta:
        model = Agent
        fields = ["q", "stage", "risk_tier", "owner", "business_unit", "autonomy_level",
                  "data_classification", "tag"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(slug__icontains=value) | Q(purpose__icontains=value)
            | Q(business_unit__icontains=value))

    def has_tag(self, queryset, name, value):
        # JSON containment differs across databases; tags are short, so a text match on the
        # serialised list is portable and exact enough with the quotes around the tag.
        return queryset.filter(tags__icontains=f'"{value.strip().lower()}"')
