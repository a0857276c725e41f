from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.accounts.services import system_user
from almportal.inventory import services as inventory
from almportal.inventory.choices import DataClassification, Stage, ToolKind
from almportal.reviews import services

from ..factories import make_agent


def add(agent, kind: str, **data):
    return inventory.component_add_version(actor=agent.business_owner, agent=agent, kind=kind,
                                           data=data)


def live_agent(owner, name="Helpdesk triage", grants=True, **overrides):
    agent = make_agent(owner, stage=Stage.LIVE, name=name, **overrides)
    if grants:
        add(agent, "credentials", name="servicenow", identity="svc-helpdesk",
            scopes=["incident.read", "incident.write"], granted_by="ITSM team",
            expires_at=timezone.now() + timedelta(days=200))
        add(agent, "tools", name="tickets", tool_kind=ToolKind.REST_API,
            endpoint="https://itsm.example.test/api", operations=["incident.read"],
            writes=False)
        add(agent, "data_sources", name="kb", system="Confluence",
            classification=DataClassification.INTERNAL, retrieval_scope="Space KB")
    return agent


def open_reviews(now=None):
    return services.access_reviews_open_due(actor=system_user(), now=now)


def later(days: int):
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def live(owner):
    return live_agent(owner)
