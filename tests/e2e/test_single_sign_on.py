"""Single sign-on through a real OpenID Connect provider: node's oidc-provider, started on
loopback for this module (its npm packages are installed into tests/e2e/oidc_provider on first
use, or by `.ci/run`)."""

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from almportal.accounts.identity import role_mapping_save
from almportal.accounts.models import ExternalIdentity, User
from almportal.accounts.roles import Role

from ..factories import make_user
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID, CLIENT_SECRET = "alm-portal", "test-only-client-secret"
ACCOUNTS = {
    "grace": {"email": "grace@example.test", "given_name": "Grace", "family_name": "Hopper",
              "groups": ["alm-compliance", "everyone"]},
    "linus": {"email": "linus@example.test", "given_name": "Linus", "family_name": "T",
              "groups": ["everyone"]},
}


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _install_provider() -> None:
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    _need(shutil.which("npm") is not None, "npm is not installed: single sign-on skipped.")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, check=True,
                   capture_output=True, timeout=300)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def identity_provider(live_server):
    _need(shutil.which("node") is not None, "node is not installed: single sign-on skipped.")
    _install_provider()
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "OIDC_TEST_ACCOUNTS": json.dumps(ACCOUNTS),
           "OIDC_TEST_CLIENT_ID": CLIENT_ID, "OIDC_TEST_CLIENT_SECRET": CLIENT_SECRET,
           "OIDC_TEST_REDIRECT_URI": f"{live_server.url}/sso/callback/"}
    process = subprocess.Popen(["node", "server.mjs"], cwd=PROVIDER_DIR, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sso(settings, identity_provider):
    settings.OIDC_ISSUER = identity_provider
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.SSO_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS,
                                        "almportal.accounts.sso.OidcBackend"]
    admin = make_user(Role.ADMIN, username="root-admin")
    role_mapping_save(actor=admin, idp_group="alm-compliance", role=Role.COMPLIANCE)
    return identity_provider


def sign_in_through_the_provider(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent page


def test_a_new_person_signs_in_and_gets_the_role_their_group_maps_to(page, sso, live_server):
    sign_in_through_the_provider(page, "grace")
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("button", name="Log out").is_visible()
    grace = User.objects.get(username="grace")
    assert grace.roles == {Role.COMPLIANCE}
    assert (grace.email, grace.first_name) == ("grace@example.test", "Grace")
    assert not grace.has_usable_password()
    assert ExternalIdentity.objects.get(user=grace).subject == "grace"  # the subject
    assert grace.history.filter(history_change_reason__startswith="Account created").exists()
    page.goto("/agents/intake-queue/")
    assert page.get_by_role("heading", level=1).is_visible()


def test_a_group_without_a_mapping_gives_no_role(page, sso, live_server):
    sign_in_through_the_provider(page, "linus")
    page.wait_for_url(f"{live_server.url}/")
    assert User.objects.get(username="linus").roles == frozenset()


def test_local_login_is_refused_when_switched_off(page, sso, settings, live_server):
    make_user(Role.BUSINESS_OWNER, username="olivia")
    settings.PASSWORD_LOGIN_ENABLED = False
    page.goto("/login/")
    assert page.get_by_role("link", name="Sign in with single sign-on").is_visible()
    assert page.get_by_label("Password").count() == 0
    settings.PASSWORD_LOGIN_ENABLED = True
    login(page, "olivia")  # the form as it was rendered while password sign-in was on …
    page.wait_for_url(f"{live_server.url}/")
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("correct horse battery staple")
    settings.PASSWORD_LOGIN_ENABLED = False
    page.get_by_role("button", name="Log in").click()  # … is refused once it is switched off
    page.get_by_text("Password sign-in is switched off").wait_for()
    page.goto("/")
    assert page.url.startswith(f"{live_server.url}/login/")
    sign_in_through_the_provider(page, "grace")
    page.wait_for_url(f"{live_server.url}/")
