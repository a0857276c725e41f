"""The browser checks find what they are for: a serious or critical axe violation, and a page
wider than the screen. Each page here is served at the live server's origin, so axe loads as it
does on the portal's own pages."""

import pytest

from .checks import problems_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def served(page, live_server, body: str) -> None:
    page.route("**/checked-page/", lambda route: route.fulfill(
        content_type="text/html", body=f"<!doctype html><html lang='en'><head><title>Checked"
                                       f"</title></head><body>{body}</body></html>"))
    page.goto(f"{live_server.url}/checked-page/")


def test_it_reports_serious_and_critical_violations(page, live_server):
    served(page, live_server, "<main><h1>Form</h1><input type='text'>"
                              "<p style='color:#bbb;background:#fff'>Faint text</p>"
                              "<img src='data:,'></main>")
    axe = " ".join(problems_at(page, 1366)["axe"])
    for rule in ("label", "color-contrast", "image-alt"):
        assert f"{rule}:" in axe


def test_it_leaves_moderate_findings_and_clean_pages_alone(page, live_server):
    served(page, live_server, "<div><h3>No landmark, a skipped heading level</h3></div>")
    assert problems_at(page, 390) == {}
    assert problems_at(page, 1366) == {}


def test_it_reports_a_page_wider_than_a_phone(page, live_server):
    served(page, live_server, "<main><h1>Wide</h1><div style='width:800px'>Wide box</div></main>")
    assert problems_at(page, 390, axe=False)["overflow_px"] > 0
    assert problems_at(page, 1366) == {}
