"""Journeys in a real browser: Playwright driving Debian's Chromium against a live server.

Without Chromium the journeys are skipped with a message, except in CI (CI=true), where a
missing browser is a failure. A failing journey leaves a screenshot in test-artifacts/."""

import os
import re
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def browser(transactional_db):
    """A browser per test, started after the test's database is ready: Playwright's event loop
    gives Django a different connection object in this thread, so the database must be set up
    (and a serialized test's rows restored) before the loop starts."""
    executable = _chromium()
    if executable is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is not installed; CI must run the browser journeys.")
        pytest.skip("Chromium is not installed: browser journeys skipped "
                    "(apt-get install chromium to run them).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread while the browser is open, and
    # Django refuses ORM calls next to a running loop. The tests' own ORM calls are plain
    # synchronous code, so allow them while the browser runs.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def _plain_http():
    """The live server speaks plain HTTP on localhost. Its middleware reads these settings when
    it starts, so they must change before the server does, not per test."""
    from django.conf import settings

    saved = {name: getattr(settings, name) for name in
             ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "STORAGES")}
    settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


@pytest.fixture(scope="session")
def live_server(_plain_http, live_server):
    return live_server


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def login(page, username: str, password: str = "correct horse battery staple") -> None:
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def fill_intake(page, name: str, *, problem: str, users: str, kpis: str, autonomy: str,
                data: str, reach: str, unit: str,
                why: str = "Answers need the policy's context.") -> None:
    """The intake form filled and saved as a draft (the owner is signed in)."""
    page.get_by_label("Name").fill(name)
    page.get_by_label("Business problem").fill(problem)
    page.get_by_label("Why an agent rather than rules").fill(why)
    page.get_by_label("Intended users").fill(users)
    page.get_by_label("Audience").select_option("internal")
    page.get_by_label("KPIs with targets").fill(kpis)
    page.get_by_label("Autonomy level").select_option(autonomy)
    page.get_by_label("Data classification").select_option(data)
    page.get_by_label("Action reach").select_option(reach)
    page.get_by_label("Business unit").fill(unit)
    page.get_by_role("button", name="Save draft").click()


def set_item_status(page, label: str) -> None:
    """On a checklist item's page, move it to `label` (In review, Accepted, Open)."""
    review = page.get_by_role("region", name="Review", exact=True)
    review.get_by_role("combobox").select_option(label=label)
    review.get_by_role("button", name="Change status").click()


def add_link_evidence(page, url: str) -> None:
    """On a checklist item's page, add a link as evidence."""
    page.get_by_text("Add evidence", exact=True).first.click()
    page.get_by_label("Link").check()
    page.get_by_label(re.compile(r"^Url:?$")).fill(url)
    page.get_by_role("button", name="Add evidence").click()
