"""Under the Content-Security-Policy the pages still work in a real browser: htmx swaps a
notification in place, and the API docs draw every operation — with no policy violation."""

import pytest
from playwright.sync_api import expect

from almportal.accounts.notifications import notify
from almportal.accounts.roles import Role

from ..factories import make_user
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page) -> list[str]:
    """What the browser reports refusing under the policy."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text else None)
    return seen


def test_htmx_marks_a_notification_read_in_place(page, violations):
    owner = make_user(Role.BUSINESS_OWNER, username="olivia")
    notify(users=[owner], kind="test", subject="Release waiting for you")
    login(page, "olivia")
    page.goto("/account/notifications/")
    item = page.locator("li.unread", has_text="Release waiting for you")
    expect(item).to_be_visible()
    item.get_by_role("button", name="Mark read").click()
    expect(page.locator("li", has_text="Release waiting for you")).to_contain_text("read")
    expect(page.locator("li.unread")).to_have_count(0)
    assert page.url.endswith("/account/notifications/")  # swapped in place, not reloaded
    assert violations == []


SEEN_OPERATIONS = "() => [...document.querySelectorAll('.opblock')].map(block => block.id)"


def test_the_api_docs_draw_every_operation(page, violations):
    """Swagger UI draws only the tags near the viewport, so the page is scrolled to its end and
    every operation drawn on the way is counted against the schema's."""
    make_user(Role.BUSINESS_OWNER, username="olivia")
    login(page, "olivia")
    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    expected = page.evaluate("() => ui.specSelectors.operations().size")
    seen: set[str] = set()
    for _ in range(400):
        seen.update(page.evaluate(SEEN_OPERATIONS))
        if len(seen) >= expected:
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(50)
    assert expected > 100
    assert len(seen) == expected
    assert violations == []
