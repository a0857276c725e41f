"""Security headers: a strict Content-Security-Policy on every page, Permissions-Policy, and
no-store on what a signed-in user or an API client sees; no template holds inline script."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from almportal.core.middleware import PERMISSIONS_POLICY

from .api.test_token_scopes import client_with

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR, "templates")
# Rendered into evidence packs (files in a zip), never served as pages.
PACK_FILES = {"audit/dossier.html", "audit/portfolio_dossier.html"}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def served_templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name not in PACK_FILES:
            yield name, path.read_text()


@pytest.mark.parametrize("url", ["/login/", "/", "/agents/", "/api/docs/"])
def test_it_sends_a_strict_policy_on_every_page(client, owner, url):
    if url != "/login/":
        client.force_login(owner)
    response = client.get(url, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html) and not EVENT_HANDLER.search(html)


def test_it_keeps_inline_script_handlers_and_styles_out_of_templates():
    offenders = [name for name, text in served_templates()
                 if INLINE_SCRIPT.search(text) or EVENT_HANDLER.search(text)
                 or STYLE_ATTRIBUTE.search(text) or "<style" in text]
    assert offenders == []


def test_it_serves_the_api_docs_start_up_script_as_a_file(client, owner):
    client.force_login(owner)
    page = client.get("/api/docs/", HTTP_X_FORWARDED_PROTO="https").content.decode()
    script = re.search(r'<script src="(/api/docs/\?[^"]+)"', page)
    assert script, page
    response = client.get(script[1].replace("&amp;", "&"), HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200 and b"SwaggerUIBundle" in response.content


def test_it_forbids_storing_signed_in_pages(client, owner):
    client.force_login(owner)
    response = client.get("/")
    assert "no-store" in response["Cache-Control"]


def test_it_forbids_storing_api_answers_and_api_errors(owner):
    api = client_with(owner, "read")
    for url in ("/api/v1/agents/", "/api/v1/no-such-thing/"):
        response = api.get(url)
        assert "no-store" in response["Cache-Control"], url
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "no-store" in api.post("/api/v1/agents/", {}, format="json")["Cache-Control"]
