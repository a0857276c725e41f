"""The template is admin-editable: saving publishes a new version through the service."""

import json

import pytest

from almportal.retirement.models import DecommissionTemplate
from almportal.retirement.selectors import current_template

from ..conftest import client_for

pytestmark = pytest.mark.django_db

ADD = "/admin/retirement/decommissiontemplate/add/"


def test_saving_the_template_in_the_admin_publishes_a_new_version(client, admin_user):
    client = client_for(client, admin_user)
    items = current_template().items
    items[0] = {**items[0], "due_offset_days": 1}
    response = client.post(ADD, {"items": json.dumps(items), "notes": "Notify sooner"})
    assert response.status_code == 302
    template = current_template()
    assert (template.version, template.created_by, template.items[0]["due_offset_days"]) == (
        2, admin_user, 1)
    assert template.history.first().history_user == admin_user


def test_a_template_without_the_required_tasks_is_refused(client, admin_user):
    client = client_for(client, admin_user)
    response = client.post(ADD, {"items": json.dumps(current_template().items[1:]),
                                 "notes": ""})
    assert response.status_code == 200 and b"must hold these tasks" in response.content
    assert DecommissionTemplate.objects.count() == 1


def test_versions_are_never_edited_or_deleted(client, admin_user):
    client = client_for(client, admin_user)
    template = current_template()
    url = f"/admin/retirement/decommissiontemplate/{template.pk}/change/"
    client.post(url, {"items": "[]", "notes": "changed"})
    template.refresh_from_db()
    assert template.notes != "changed"
    assert client.post(f"/admin/retirement/decommissiontemplate/{template.pk}/delete/",
                       {"post": "yes"}).status_code == 403
