"""One filter definition for the inventory list page and the agents API."""

import django_filters
from django.db.models import Q

from ..accounts.models import User
from .choices import AutonomyLevel, DataClassification, RiskTier, Stage
from .models import Agent


class AgentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    risk_tier = django_filters.MultipleChoiceFilter(choices=RiskTier.choices, label="Tier")
    owner = django_filters.ModelChoiceFilter(
        field_name="business_owner", queryset=User.objects.filter(is_service_account=False),
        label="Owner")
    business_unit = django_filters.CharFilter(lookup_expr="iexact")
    autonomy_level = django_filters.MultipleChoiceFilter(choices=AutonomyLevel.choices,
                                                         label="Autonomy")
    data_classification = django_filters.MultipleChoiceFilter(choices=DataClassification.choices,
                                                              label="Data")
    tag = django_filters.CharFilter(method="has_tag", label="Tag")

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
