"""The owner's own path in the browser: a business owner files an intake, compliance accepts
it, the owner builds and submits a high-tier release, and people independent of it complete the
checklist, the evaluation (CI, with its own token) and the sign-offs. It is approved with no
delegate and no second submission; the gate shows the owner's sign-off from the submission.

Steps that repeat (the other checklist items) go through the same services the pages call;
every kind of step is done in a page once."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from almportal.accounts.roles import Role
from almportal.accounts.services import token_create
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent
from almportal.inventory.selectors import agent_delegates
from almportal.releases import services as releases
from almportal.releases.choices import ReleaseState
from almportal.releases.models import Release, SignOff
from almportal.risk import services as risk

from ..factories import make_model, make_prompt, make_service_account, make_user
from ..releases.helpers import GOOD_METRICS
from ..risk.helpers import HR_ANSWERS
from .conftest import add_link_evidence, fill_intake, login, set_item_status
from .test_lifecycle_journey import accept_item, condition, field, said

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAME = "HR policy assistant"


def _file_intake(page) -> Agent:
    page.goto(reverse("inventory:agent-create"))
    fill_intake(page, NAME, problem="Staff wait days for answers on HR policy.",
                users="All staff", kpis="Answer accuracy: 95%", autonomy="human_approves",
                data="restricted", reach="writes_internal", unit="People")
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    page.get_by_role("button", name="Submit for triage").click()
    said(page, "submitted")
    return Agent.objects.get(name=NAME)


def _sign(page, role_label: str) -> None:
    role = field(page, "Role")
    expect(role.locator("option")).to_have_count(1)  # only the role they may sign now
    role.select_option(label=role_label)
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record my decision").click()
    said(page, "Recorded")


def test_an_owner_takes_a_high_tier_release_to_approval_alone(page, browser, live_server):
    olivia = make_user(Role.BUSINESS_OWNER, username="olivia", first_name="Olivia")
    carla = make_user(Role.COMPLIANCE, username="carla", first_name="Carla")
    cora = make_user(Role.COMPLIANCE, username="cora", first_name="Cora")
    sam = make_user(Role.SECURITY, username="sam", first_name="Sam")
    admin = make_user(Role.ADMIN, username="adam", is_superuser=True, is_staff=True)

    # 1. The owner files the intake; compliance accepts it.
    login(page, "olivia")
    agent = _file_intake(page)
    login(page, "carla")
    page.goto(reverse("inventory:intake-queue"))
    page.get_by_role("link", name=NAME).first.click()
    page.get_by_role("button", name="Accept").click()
    said(page, "accepted")
    agent.refresh_from_db()
    assert agent.stage == Stage.IN_DEVELOPMENT

    # Compliance assesses it as high risk (the assessment pages have their own journey).
    draft = risk.assessment_draft(actor=olivia, agent=agent, answers=HR_ANSWERS)
    risk.assessment_complete(actor=carla, assessment=draft, tier="high",
                             justification="Restricted HR data")

    # 2. The owner builds the release and submits it: that is her business-owner sign-off.
    model, prompt = make_model(agent, olivia), make_prompt(agent, olivia)
    release = releases.release_create(actor=olivia, agent=agent, label="1.0.0",
                                       components={"models": [model.pk],
                                                   "prompts": [prompt.pk]})
    login(page, "olivia")
    page.goto(release.get_absolute_url())
    page.get_by_role("button", name="Submit for sign-off").click()
    said(page, "submitted for sign-off")
    readiness = release.get_absolute_url()  # one page: the gate and sign-offs are here too
    expect(page).to_have_url(re.compile(f"{readiness}$"))
    signoffs = condition(page, "signoffs")
    expect(signoffs).to_contain_text("Business owner: Olivia")
    expect(signoffs).to_contain_text("(by submitting the release)")
    expect(page.locator("[data-sign-refusal]")).to_contain_text(
        "You already signed this release as business owner")

    # The owner names an independent reviewer and adds evidence to one item in the page.
    item = release.checklist_items.order_by("order").first()
    page.get_by_role("link", name=item.title).click()
    reviewer = field(page, "Reviewer")
    expect(reviewer.locator("option", has_text="Olivia")).to_have_count(0)
    reviewer.select_option(label=str(sam))
    page.get_by_role("button", name="Save").click()
    said(page, "Owner and reviewer saved")
    add_link_evidence(page, "https://wiki.example.test/hr/readiness")
    said(page, "Evidence added")
    set_item_status(page, "In review")
    said(page, "in review")

    # 3. CI posts the evaluation run over the API with the token an admin minted for it.
    ci = make_service_account(agent, username="ci-pipeline")
    _, key = token_create(actor=admin, owner=ci, name="CI", scopes=["read", "write"],
                          expires_at=timezone.now() + timedelta(days=30))
    suite = releases.evaluation_suite_create(
        actor=olivia, agent=agent, name="regression", dataset_ref="s3://evals/hr",
        dataset_version="2026-11", metrics=list(GOOD_METRICS))
    ci_context = browser.new_context(base_url=live_server.url)
    posted = ci_context.request.post("/api/v1/evaluation-runs/", data={
        "release": release.pk, "suite": suite.pk, "metrics": GOOD_METRICS},
        headers={"Authorization": f"Bearer {key}"})
    assert posted.status == 201, posted.text()
    ci_context.close()

    # 4. The security reviewer accepts the item in the page; the other items likewise.
    login(page, "sam")
    page.goto(item.get_absolute_url())
    set_item_status(page, "Accepted")
    said(page, "accepted")
    for other in release.checklist_items.exclude(pk=item.pk):
        accept_item(other, by=olivia, reviewer=sam)

    # 5. Security, then two compliance officers, sign in the page.
    page.goto(readiness)
    expect(condition(page, "checklist")).to_have_attribute("data-passed", "true")
    expect(condition(page, "evaluations")).to_have_attribute("data-passed", "true")
    _sign(page, "Security reviewer")
    for officer in ("carla", "cora"):
        login(page, officer)
        page.goto(readiness)
        _sign(page, "Compliance officer")

    expect(page.get_by_role("heading", name=re.compile("Release gate"))).to_contain_text("holds")
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED
    assert agent_delegates(agent) == []
    assert Release.objects.filter(agent=agent).count() == 1
    signed = SignOff.objects.filter(release=release, voided_at__isnull=True)
    assert set(signed.values_list("user__username", flat=True)) == {
        olivia.username, sam.username, carla.username, cora.username}
