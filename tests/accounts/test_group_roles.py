"""The group-to-role mapping over the API and in the admin: admins only, never deleted."""

import pytest
from rest_framework.test import APIClient

from almportal.accounts.models import GroupRoleMapping
from almportal.accounts.roles import Role

URL = "/api/v1/identity/group-roles/"


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_admin_maps_a_group_and_changes_it(admin_user):
    api = api_for(admin_user)
    created = api.post(URL, {"idp_group": "alm-compliance", "role": Role.COMPLIANCE})
    assert created.status_code == 201
    pk = created.json()["id"]
    changed = api.put(f"{URL}{pk}/", {"idp_group": "alm-compliance", "role": Role.COMPLIANCE,
                                      "active": False, "reason": "Group retired"})
    assert changed.status_code == 200 and changed.json()["active"] is False
    mapping = GroupRoleMapping.objects.get(pk=pk)
    assert mapping.history.first().history_change_reason == "Group retired"
    assert mapping.history.first().history_user == admin_user
    assert api.delete(f"{URL}{pk}/").status_code == 405


def test_it_refuses_a_duplicate_and_an_unknown_role(admin_user):
    api = api_for(admin_user)
    api.post(URL, {"idp_group": "g", "role": Role.AUDITOR})
    duplicate = api.post(URL, {"idp_group": "g", "role": Role.AUDITOR})
    assert duplicate.status_code == 400 and "idp_group" in duplicate.json()["errors"]
    unknown = api.post(URL, {"idp_group": "g", "role": "overlord"})
    assert unknown.status_code == 400 and "role" in unknown.json()["errors"]
    assert GroupRoleMapping.objects.count() == 1


@pytest.mark.parametrize("persona", ["owner", "compliance", "security", "auditor"])
def test_only_admins_see_or_change_the_mapping(persona, request, admin_user):
    mapping = GroupRoleMapping.objects.create(idp_group="g", role=Role.AUDITOR)
    api = api_for(request.getfixturevalue(persona))
    assert api.get(URL).status_code == 403
    assert api.get(f"{URL}{mapping.pk}/").status_code == 403
    assert api.post(URL, {"idp_group": "x", "role": Role.ADMIN}).status_code == 403


def test_the_admin_saves_through_the_service(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/accounts/grouprolemapping/add/",
                           {"idp_group": "alm-auditors", "role": Role.AUDITOR, "active": "on"})
    assert response.status_code == 302
    mapping = GroupRoleMapping.objects.get()
    assert mapping.history.get().history_change_reason == "Added in the admin"
