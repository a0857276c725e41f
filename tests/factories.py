"""Factories for every app's tests. Rows that carry business rules are made through services,
so a factory can never produce a state the portal itself could not reach."""

from typing import cast

import factory
from django.contrib.auth.models import Group

from almportal.accounts.models import User
from almportal.accounts.roles import GROUP_NAMES, Role
from almportal.inventory import services as inventory
from almportal.inventory.choices import (
    ActionReach,
    Audience,
    AutonomyLevel,
    DataClassification,
    Hosting,
    RegulatedDomain,
    Stage,
)
from almportal.releases import services as release_services


def _join_role(user: User, create: bool, extracted: str | None, **kwargs: object) -> None:
    """UserFactory(role=...): put the user in that role's group."""
    if extracted:
        user.groups.add(Group.objects.get(name=GROUP_NAMES[Role(extracted)]))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("correct horse battery staple")

    role = factory.PostGeneration(_join_role)


def make_user(role: str | None = None, **kwargs) -> User:
    return cast(User, UserFactory(role=role, **kwargs))  # factory_boy is untyped


def intake_data(**overrides) -> dict:
    data = {
        "name": "Internal FAQ assistant",
        "purpose": "Answers staff questions about internal policies from the handbook.",
        "why_agent": "Search alone misses context; a plain prompt cannot cite the handbook.",
        "business_unit": "People Operations",
        "intended_users": "All staff, about 2,000 people.",
        "audience": Audience.INTERNAL,
        "success_metrics": [{"name": "Deflected tickets", "target": "30%"}],
        "autonomy_level": AutonomyLevel.SUGGEST_ONLY,
        "data_classification": DataClassification.INTERNAL,
        "action_reach": ActionReach.READ_ONLY,
        "regulated_domain": RegulatedDomain.NONE,
    }
    data.update(overrides)
    return data


# The moves from in_development to each later stage (the stage service refuses any move the
# portal's transitions do not allow).
STAGES_AFTER_DEVELOPMENT: dict[str, list[Stage]] = {
    Stage.IN_DEVELOPMENT: [],
    Stage.LIVE: [Stage.LIVE],
    Stage.SUSPENDED: [Stage.LIVE, Stage.SUSPENDED],
    Stage.SUNSETTING: [Stage.SUNSETTING],
    Stage.RETIRED: [Stage.SUNSETTING, Stage.RETIRED],
}


def make_agent(owner: User | None = None, stage: str = Stage.DRAFT, **overrides):
    """An agent filed by its owner and moved to `stage` through the real services: triage up to
    in_development, then the stage service the operations apps call, one transition at a time."""
    owner = owner or make_user(Role.BUSINESS_OWNER)
    agent = inventory.agent_create(actor=owner, data=intake_data(**overrides))
    if stage == Stage.DRAFT:
        return agent
    agent = inventory.agent_submit_intake(actor=owner, agent=agent)
    if stage == Stage.PROPOSED:
        return agent
    triager = make_user(Role.COMPLIANCE)
    if stage == Stage.DECLINED:
        return inventory.agent_decline(actor=triager, agent=agent, reason="Not needed")
    agent = inventory.agent_accept(actor=triager, agent=agent)
    for step in STAGES_AFTER_DEVELOPMENT[stage]:
        agent = inventory.agent_set_stage(actor=triager, agent=agent, stage=step,
                                          reason="Set up for the test")
    return agent


def make_model(agent, actor=None, **overrides):
    data = {"name": "main-model", "provider": "Example AI", "model_name": "example-large",
            "pinned_version": "2026-06-01", "hosting": Hosting.VENDOR_API,
            "data_retention": "30 days, no training"}
    data.update(overrides)
    return inventory.component_add_version(actor=actor or agent.business_owner, agent=agent,
                                           kind="models", data=data)


def make_prompt(agent, actor=None, **overrides):
    data = {"name": "system", "text": "You are a helpful assistant for staff questions."}
    data.update(overrides)
    return inventory.component_add_version(actor=actor or agent.business_owner, agent=agent,
                                           kind="prompts", data=data)


def make_release(agent, actor=None, **kwargs):
    actor = actor or agent.business_owner
    model = make_model(agent, actor)
    prompt = make_prompt(agent, actor)
    components = {"models": [model.pk], "prompts": [prompt.pk]}
    components.update(kwargs.pop("components", {}))
    return release_services.release_create(actor=actor, agent=agent, components=components,
                                           **kwargs)


def make_service_account(agent=None, rights=("record_evaluations",), username: str = "ci-bot"):
    """A CI or gateway service account, granted `rights` on `agent` by an admin."""
    account = (User.objects.filter(username=username).first()
               or make_user(username=username, is_service_account=True))
    if agent is not None:
        admin = (User.objects.filter(is_superuser=True, is_active=True).first()
                 or make_user(Role.ADMIN, is_superuser=True, is_staff=True))
        inventory.service_account_set_rights(actor=admin, agent=agent, account=account,
                                             rights=list(rights))
    return account
