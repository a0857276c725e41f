"""A business owner files an intake in the browser; compliance declines it, the owner
revises it, and compliance accepts it. Each step asserts what the person sees."""

import re

import pytest
from playwright.sync_api import expect

from almportal.accounts.roles import Role
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent

from ..factories import make_user
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_intake_goes_from_draft_to_development(page):
    make_user(Role.BUSINESS_OWNER, username="olivia", first_name="Olivia")
    make_user(Role.COMPLIANCE, username="carla", first_name="Carla")

    login(page, "olivia")
    expect(page.get_by_role("heading", name="Welcome, Olivia")).to_be_visible()
    page.get_by_role("link", name="File an intake").click()
    page.get_by_label("Name").fill("Expense policy helper")
    page.get_by_label("Business problem").fill("Staff ask the same expense questions daily.")
    page.get_by_label("Why an agent rather than rules").fill("Answers need the policy's context.")
    page.get_by_label("Intended users").fill("All staff")
    page.get_by_label("Audience").select_option("internal")
    page.get_by_label("KPIs with targets").fill("Tickets deflected: 30%\nAnswer accuracy: 95%")
    page.get_by_label("Autonomy level").select_option("suggest_only")
    page.get_by_label("Data classification").select_option("internal")
    page.get_by_label("Action reach").select_option("read_only")
    page.get_by_label("Business unit").fill("Finance")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("heading", name="Expense policy helper")).to_be_visible()
    expect(page.get_by_text("Tickets deflected")).to_be_visible()
    page.get_by_role("button", name="Submit for triage").click()
    expect(page.locator(".messages")).to_contain_text("submitted")

    login(page, "carla")
    page.get_by_role("link", name="Intake queue", exact=True).click()
    page.get_by_role("link", name="Expense policy helper").first.click()
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("heading", name=re.compile("Decline"))).to_be_visible()
    expect(page.locator(".errorlist, .field-error, [role=alert]").first).to_be_visible()
    assert Agent.objects.get().stage == Stage.PROPOSED  # nothing changed without a reason
    page.get_by_label("Reason").fill("Add the finance policy owner first.")
    page.get_by_role("button", name="Decline").click()
    expect(page.locator(".messages")).to_contain_text("declined")

    login(page, "olivia")
    page.goto(Agent.objects.get().get_absolute_url())
    expect(page.locator("body")).to_contain_text("Add the finance policy owner first.")
    page.get_by_role("button", name="Reopen as draft").click()
    page.get_by_role("button", name="Submit for triage").click()

    login(page, "carla")
    page.goto(Agent.objects.get().get_absolute_url())
    page.get_by_placeholder("Note (optional)").fill("Fine with the policy owner named.")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator(".messages")).to_contain_text("accepted")
    expect(page.locator("body")).to_contain_text("In development")
    assert Agent.objects.get().stage == Stage.IN_DEVELOPMENT
