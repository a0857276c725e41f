"""How many pages people load to take one high-tier release (13 checklist items) from
submission to approval, when the checklist is worked from the release page: the owner submits
it and, without leaving the page, names the reviewer, attaches evidence and sends every item
for review; the reviewer accepts them all; CI posts the evaluation; security and two
compliance officers sign. htmx requests are not page loads: only main-frame navigations are
counted (signing in included)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from almportal.accounts.roles import Role
from almportal.inventory.choices import Stage
from almportal.releases.choices import ItemStatus, ReleaseState
from almportal.releases.models import Release

from ..factories import make_release, make_user
from ..releases.helpers import passing_run
from ..risk.helpers import assessed
from .test_lifecycle_journey import field

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MOST = 20  # a third of the page loads the item-by-item path took (about 60)


def _sign_in_to(page, username: str, url: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{reverse('login')}?next={url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Release")


def _bulk(page, button: str, said: str, **fields) -> None:
    """Choose every item, set the fields and press the button; htmx redraws the checklist."""
    checklist = page.locator("#checklist")
    checklist.get_by_label("Choose every item").check()
    for label, value in fields.items():
        control = field(checklist, label)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(label=value)
        else:
            control.fill(value)
    checklist.get_by_role("button", name=button, exact=True).click()
    expect(page.locator("[data-bulk-messages]")).to_contain_text(said)


def _sign(page, role_label: str) -> None:
    field(page, "Role").select_option(label=role_label)
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record my decision").click()
    expect(page.get_by_role("status").filter(has_text="Recorded").first).to_be_visible()


def test_a_release_goes_from_submission_to_approval_in_few_page_loads(page):
    olivia = make_user(Role.BUSINESS_OWNER, username="olivia", first_name="Olivia")
    carla = make_user(Role.COMPLIANCE, username="carla", first_name="Carla")
    make_user(Role.COMPLIANCE, username="cora", first_name="Cora")
    make_user(Role.SECURITY, username="sam", first_name="Sam")
    rita = make_user(Role.COMPLIANCE, username="rita", first_name="Rita")
    agent = assessed(olivia, carla, stage=Stage.IN_DEVELOPMENT, tier="high",
                     justification="Handles HR records").agent
    release = make_release(agent, actor=olivia, label="1.0.0")
    url = release.get_absolute_url()

    loads = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and loads.append(frame.url))

    _sign_in_to(page, "olivia", url)
    page.get_by_role("button", name="Submit for sign-off").click()
    expect(page.locator("[data-item]")).to_have_count(13)
    _bulk(page, "Name", "13 checklist items: owner or reviewer named", Reviewer=str(rita))
    _bulk(page, "Attach", "13 checklist items: evidence attached",
          **{"Evidence link": "https://wiki.example.test/hr/readiness"})
    _bulk(page, "Move", "13 checklist items: status changed", **{"Move to": "In review"})
    passing_run(release)  # CI posts the evaluation over the API: no page of anyone's

    _sign_in_to(page, "rita", url)
    _bulk(page, "Move", "13 checklist items: status changed",
          **{"Move to": "Accepted", "Reason": "Evidence checked"})
    assert set(release.checklist_items.values_list("status", flat=True)) == {
        ItemStatus.ACCEPTED}

    for username, role in (("sam", "Security reviewer"), ("carla", "Compliance officer"),
                           ("cora", "Compliance officer")):
        _sign_in_to(page, username, url)
        _sign(page, role)

    assert Release.objects.get(pk=release.pk).state == ReleaseState.APPROVED
    print(f"\nPage loads from submission to approval (13 checklist items): {len(loads)}")
    assert len(loads) <= MOST, loads
