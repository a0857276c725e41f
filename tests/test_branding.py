"""Every page is branded: the favicon answers at /favicon.ico, and the Django admin carries the
portal's name, icon and stylesheet."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.staticfiles import finders


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".svg") and "favicon" in response["Location"]
    found = finders.find("img/favicon.svg")
    assert found and "<svg" in Path(found).read_text()


def test_the_admin_site_is_named():
    assert admin.site.site_header == "ALM Portal administration"
    assert "ALM Portal" in admin.site.site_title


@pytest.mark.django_db
def test_admin_pages_carry_the_portal_brand(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "ALM Portal administration" in html
    assert "img/favicon.svg" in html and "css/admin.css" in html
    assert "Records and settings" in html
