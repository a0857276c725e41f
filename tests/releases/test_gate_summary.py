"""The gate reads as a merge box: one line per condition with a count, the next step for the
person looking, the detail folded away; no internal identifier or Python repr anywhere in
the release page or the gate's API text, whatever state the release is in."""

import importlib
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models

from almportal.accounts.roles import Role
from almportal.inventory.choices import Stage
from almportal.releases import rules, services
from almportal.releases.choices import ItemStatus, ReleaseState

from ..conftest import client_for
from ..factories import make_agent, make_release
from .helpers import Signers, complete_checklist, high_release, passing_run, sign, sign_all

pytestmark = pytest.mark.django_db


def choice_identifiers() -> set[str]:
    """Every choice value with an underscore, from every app's choice tables."""
    found: set[str] = set()
    for config in apps.get_app_configs():
        if not config.name.startswith("almportal."):
            continue
        for name in ("choices", "roles"):
            try:
                module = importlib.import_module(f"{config.name}.{name}")
            except ModuleNotFoundError:
                continue
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, models.Choices) \
                        and value.__module__ == module.__name__:
                    found |= {str(v) for v in value.values if "_" in str(v)}
    return found


class _Text(HTMLParser):
    """The text a person reads: no tags, attributes, scripts, or code blocks (the manifest's
    JSON and hashes are shown as code on purpose)."""

    SKIP = {"script", "style", "pre", "code", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.SKIP

    def handle_endtag(self, tag):
        self.depth -= tag in self.SKIP

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def leaks(text: str) -> list[str]:
    found = [value for value in choice_identifiers()
             if re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text)]
    return found + (["[{'"] if "[{'" in text else [])


def test_the_scan_knows_the_identifiers_people_saw():
    known = choice_identifiers()
    assert {"security_access", "performance_accuracy", "in_review", "compliance_officer"} <= known
    assert leaks("Pillar: security_access") == ["security_access"]
    assert leaks("<[{'clauses': 1}]") == ["[{'"]


@pytest.fixture
def signers(owner, security, compliance2, db):
    from ..factories import make_user
    return Signers(owner, security, make_user(Role.COMPLIANCE, username="cleo"), compliance2)


def _releases(owner, compliance, delegate, signers):
    """A draft, a release under review halfway, an approved one and a voided one."""
    submitted = high_release(owner, compliance, delegate)
    agent = submitted.agent
    complete_checklist(submitted, signers.compliance2, leave=4)
    passing_run(submitted, task_success_rate=0.5)
    sign(submitted, signers.security, Role.SECURITY)
    draft = make_release(agent, actor=owner)
    return agent, [draft, submitted]


def test_no_identifier_on_the_release_page_or_in_the_gate_api(client, owner, compliance,
                                                              delegate, security, auditor,
                                                              signers):
    agent, releases = _releases(owner, compliance, delegate, signers)
    for release in releases:
        for user in (owner, security, auditor, signers.compliance2):
            client_for(client, user)
            page = client.get(release.get_absolute_url())
            assert page.status_code == 200
            assert leaks(visible_text(page.content.decode())) == [], (release, user)
            api = client.get(f"/api/v1/releases/{release.pk}/gate/").json()
            human = " ".join([c["title"] for c in api["conditions"]]
                             + [c["summary"] for c in api["conditions"]]
                             + [m for c in api["conditions"] for m in c["missing"] + c["done"]]
                             + [api["standing"]["reason"]])
            assert leaks(human) == [], (release, user)
        for item in release.checklist_items.all()[:2]:
            text = visible_text(client.get(item.get_absolute_url()).content.decode())
            assert leaks(text) == [], item


def test_an_approved_and_a_voided_release_read_plainly(client, owner, compliance, delegate,
                                                       signers):
    release = high_release(owner, compliance, delegate)
    complete_checklist(release, signers.compliance2)
    passing_run(release)
    sign_all(release, signers)
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED
    client_for(client, owner)
    text = visible_text(client.get(release.get_absolute_url()).content.decode())
    assert leaks(text) == []
    assert "Checklist: 13 of 13 accepted" in text
    assert "It is approved" in text
    services.release_void(actor=owner, release=release, reason="A new prompt version was added")
    text = visible_text(client.get(release.get_absolute_url()).content.decode())
    assert leaks(text) == []
    assert "Nothing to do: it is voided." in text


def test_one_line_per_condition_with_counts(client, owner, compliance, delegate, signers):
    release = high_release(owner, compliance, delegate)
    complete_checklist(release, signers.compliance2, leave=4)
    passing_run(release, task_success_rate=0.5, groundedness=0.1)
    sign(release, signers.security, Role.SECURITY)
    gate = services.release_gate(release)
    assert [c.summary for c in gate.conditions] == [
        "Risk assessment: current",
        "Checklist: 9 of 13 accepted",
        "Evaluations: 7 of 9 required metrics passing",
        "Sign-offs: 1 of 3 roles",
    ]
    client_for(client, owner)
    html = client.get(release.get_absolute_url()).content.decode()
    assert "<details><summary><strong>✗ Checklist: 9 of 13 accepted</strong></summary>" in html
    assert "Next for you:" in html


def test_the_next_step_follows_the_person(client, owner, compliance, delegate, signers,
                                          auditor):
    release = high_release(owner, compliance, delegate)
    complete_checklist(release, signers.compliance2, leave=1)
    item = release.checklist_items.order_by("order").last()
    owner_sees = _next(client, owner, release)
    assert owner_sees.startswith("Add evidence and a reviewer to 1 item and send")
    assert _next(client, signers.security, release) == "Sign as security reviewer."
    assert _next(client, signers.compliance, release).startswith(
        "Nothing waits for you here. Still open: Checklist: 12 of 13 accepted")
    assert _next(client, auditor, release).startswith("Nothing waits for you here.")
    services.checklist_item_assign(actor=owner, item=item, reviewer=signers.compliance2)
    from .helpers import add_link
    add_link(item, owner)
    services.checklist_item_set_status(actor=owner, item=item, status=ItemStatus.IN_REVIEW)
    assert _next(client, signers.compliance2, release) == (
        "Review the 1 checklist item waiting for you.")


def _next(client, user, page) -> str:
    """The next step `user` reads on a release's page or on its agent's."""
    client_for(client, user)
    html = client.get(page.get_absolute_url()).content.decode()
    found = re.search(r"data-next-step><strong>Next for you:</strong> (.*?)</(p|span)>", html,
                      re.S)
    assert found, user
    return found.group(1).strip().replace("&#x27;", "'")


def test_next_step_in_each_state():
    base = {"standing_holds": True, "open_conditions": ("Checklist: 0 of 4 accepted",)}
    step = lambda state, **kw: rules.next_step(rules.StepFacts(state, **{**base, **kw}))  # noqa: E731
    assert step(ReleaseState.DRAFT, may_manage=True) == "Submit the release for sign-off."
    assert step(ReleaseState.DRAFT).startswith("Nothing for you yet")
    assert step(ReleaseState.APPROVED).startswith("It is approved")
    assert step(ReleaseState.APPROVED, standing_holds=False).startswith("Its approval no longer")
    assert step(ReleaseState.VOIDED) == "Nothing to do: it is voided."
    assert step(ReleaseState.SUBMITTED, may_manage=True, items_to_prepare=2) == (
        "Add evidence and a reviewer to 2 items and send them for review.")
    assert step(ReleaseState.SUBMITTED, may_record_runs=True, evaluations_met=False) == (
        "Record an evaluation run (or let CI post one).")
    assert step(ReleaseState.SUBMITTED, open_conditions=()) == (
        "Nothing waits for you: the gate holds.")


def test_the_agent_page_says_the_same_next_step_as_the_release_page(
        client, owner, compliance, delegate, signers, auditor):
    release = high_release(owner, compliance, delegate)
    complete_checklist(release, signers.compliance2, leave=1)
    agent = release.agent
    expected = {
        owner: "Add evidence and a reviewer to 1 item and send them for review; record an "
               "evaluation run (or let CI post one); sign as business owner.",
        signers.security: "Sign as security reviewer.",
    }
    for user in (owner, signers.security, signers.compliance, auditor):
        on_agent_page = _next(client, user, agent)
        assert on_agent_page == _next(client, user, release), user
        assert on_agent_page == client.get(
            f"/api/v1/releases/{release.pk}/gate/").json()["next_step"]
        if user in expected:
            assert on_agent_page == expected[user]
    assert _next(client, auditor, agent).startswith("Nothing waits for you here.")


def test_the_agent_page_has_no_next_step_without_a_release_in_progress(client, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    make_release(agent, actor=owner)  # a draft is not in progress
    html = client_for(client, owner).get(agent.get_absolute_url()).content.decode()
    assert "none in sign-off" in html and "data-next-step" not in html
