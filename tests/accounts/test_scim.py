"""SCIM 2.0 requests as identity providers send them (Entra ID and Okta shapes)."""

import json

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts.identity import role_mapping_save
from almportal.accounts.models import ApiToken, GroupRoleMapping, User
from almportal.accounts.roles import Role
from almportal.accounts.services import token_create
from almportal.core.errors import DomainError
from almportal.reviews.selectors import ownerless_agents

from ..factories import make_agent, make_user

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def provisioner(admin_user):
    return make_user(username="entra-provisioning", is_service_account=True)


@pytest.fixture
def idp(provisioner, admin_user) -> APIClient:
    _, key = token_create(actor=admin_user, owner=provisioner, name="Entra ID", scopes=["scim"],
                          expires_at=timezone.now() + timezone.timedelta(days=30))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def mappings(admin_user):
    role_mapping_save(actor=admin_user, idp_group="ALM Compliance", role=Role.COMPLIANCE)
    role_mapping_save(actor=admin_user, idp_group="ALM Owners", role=Role.BUSINESS_OWNER)


def send(client, method, url, body=None):
    return getattr(client, method)(f"/scim/v2/{url}", data=json.dumps(body) if body else None,
                                   content_type=SCIM)


def new_user(idp, username="ada@example.test", **extra):
    body = {"schemas": [USER], "userName": username, "externalId": f"ext-{username}",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"primary": True, "type": "work", "value": username}], "active": True,
            **extra}
    response = send(idp, "post", "Users", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_it_creates_a_user_as_entra_sends_it(idp, provisioner):
    created = new_user(idp)
    user = User.objects.get(pk=created["id"])
    assert (user.username, user.first_name, user.email) == (
        "ada@example.test", "Ada", "ada@example.test")
    assert not user.has_usable_password()
    assert created["externalId"] == "ext-ada@example.test" and created["active"] is True
    assert user.history.get().history_user == provisioner


def test_it_finds_users_by_filter(idp):
    new_user(idp)
    found = send(idp, "get", 'Users?filter=userName eq "ada@example.test"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["userName"] == "ada@example.test"
    none = send(idp, "get", 'Users?filter=userName eq "nobody@example.test"').json()
    assert none["totalResults"] == 0 and none["Resources"] == []
    by_external = send(idp, "get", 'Users?filter=externalId eq "ext-ada@example.test"').json()
    assert by_external["totalResults"] == 1


def test_it_refuses_filters_it_does_not_understand(idp):
    response = send(idp, "get", 'Users?filter=userName sw "ada"')
    assert response.status_code == 400 and response.json()["scimType"] == "invalidFilter"


def test_it_refuses_a_duplicate_user_name_with_409(idp):
    new_user(idp)
    response = send(idp, "post", "Users", {"schemas": [USER], "userName": "ADA@example.test"})
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"
    assert User.objects.filter(username__iexact="ada@example.test").count() == 1


def test_it_refuses_a_user_without_a_user_name(idp):
    response = send(idp, "post", "Users", {"schemas": [USER], "name": {"givenName": "X"}})
    assert response.status_code == 400
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_it_updates_a_user_with_patch(idp, provisioner):
    created = new_user(idp)
    response = send(idp, "patch", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "name.familyName", "value": "Byron"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ada@new.test"}]})
    assert response.status_code == 200
    user = User.objects.get(pk=created["id"])
    assert (user.last_name, user.email) == ("Byron", "ada@new.test")
    assert user.history.first().history_change_reason == "Updated by the identity provider"


def test_patch_active_false_deactivates_revokes_tokens_and_leaves_agents_ownerless(
        idp, provisioner, db):
    created = new_user(idp)
    person = User.objects.get(pk=created["id"])
    person.groups.add(Group.objects.get(name=Role.BUSINESS_OWNER.label))
    agent = make_agent(person)
    token, key = token_create(actor=person, name="laptop", scopes=["read"],
                              expires_at=timezone.now() + timezone.timedelta(days=5))
    # Entra's form: a path and the string "False".
    response = send(idp, "patch", f"Users/{person.pk}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"}]})
    assert response.status_code == 200 and response.json()["active"] is False
    person.refresh_from_db()
    assert not person.is_active
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert agent in ownerless_agents()
    assert person.history.first().history_user == provisioner
    assert token.history.first().history_user == provisioner
    refused = APIClient()
    refused.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert refused.get("/api/v1/agents/").status_code == 401


def test_okta_style_patch_without_a_path_deactivates(idp):
    created = new_user(idp)
    send(idp, "patch", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": False}}]})
    assert not User.objects.get(pk=created["id"]).is_active


def test_delete_deactivates_and_keeps_the_record(idp):
    created = new_user(idp)
    assert send(idp, "delete", f"Users/{created['id']}").status_code == 204
    assert not User.objects.get(pk=created["id"]).is_active


def test_it_refuses_a_bad_active_value_and_changes_nothing(idp):
    created = new_user(idp)
    response = send(idp, "patch", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "name.givenName", "value": "Changed"},
        {"op": "replace", "path": "active", "value": "maybe"}]})
    assert response.status_code == 400
    user = User.objects.get(pk=created["id"])
    assert user.is_active and user.first_name == "Ada"


def test_group_membership_gives_and_takes_roles(idp, mappings, provisioner):
    ada = new_user(idp)
    grace = new_user(idp, "grace@example.test")
    group = send(idp, "post", "Groups", {"schemas": [GROUP], "displayName": "ALM Compliance",
                                         "members": [{"value": ada["id"]}]}).json()
    assert User.objects.get(pk=ada["id"]).roles == {Role.COMPLIANCE}
    # Entra adds members with a path and a list.
    send(idp, "patch", f"Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": grace["id"]}]}]})
    assert User.objects.get(pk=grace["id"]).roles == {Role.COMPLIANCE}
    # Okta removes one with a filtered path.
    response = send(idp, "patch", f"Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{ada["id"]}"]'}]})
    assert response.status_code == 200
    assert [m["value"] for m in response.json()["members"]] == [grace["id"]]
    ada_user = User.objects.get(pk=ada["id"])
    assert ada_user.roles == frozenset()
    change = ada_user.history.first()
    assert change.history_user == provisioner and "roles now none" in change.history_change_reason


def test_a_group_without_a_mapping_gives_no_role(idp, mappings):
    ada = new_user(idp)
    send(idp, "post", "Groups", {"schemas": [GROUP], "displayName": "Canteen",
                                 "members": [{"value": ada["id"]}]})
    assert User.objects.get(pk=ada["id"]).roles == frozenset()


def test_deleting_a_group_takes_its_roles(idp, mappings):
    ada = new_user(idp)
    group = send(idp, "post", "Groups", {"schemas": [GROUP], "displayName": "ALM Owners",
                                         "members": [{"value": ada["id"]}]}).json()
    assert send(idp, "delete", f"Groups/{group['id']}").status_code == 204
    assert User.objects.get(pk=ada["id"]).roles == frozenset()
    assert send(idp, "get", f"Groups/{group['id']}").status_code == 404


def test_changing_the_mapping_changes_provisioned_roles(idp, mappings, admin_user):
    ada = new_user(idp)
    send(idp, "post", "Groups", {"schemas": [GROUP], "displayName": "ALM Owners",
                                 "members": [{"value": ada["id"]}]})
    mapping = GroupRoleMapping.objects.get(idp_group="ALM Owners")
    role_mapping_save(actor=admin_user, mapping=mapping, idp_group="ALM Owners",
                      role=Role.SECURITY)
    assert User.objects.get(pk=ada["id"]).roles == {Role.SECURITY}


def test_it_refuses_unknown_members(idp):
    response = send(idp, "post", "Groups", {"schemas": [GROUP], "displayName": "X",
                                            "members": [{"value": "999999"}]})
    assert response.status_code == 400 and "No such user" in response.json()["detail"]


def test_lists_page_and_their_query_count_does_not_grow(idp, django_assert_max_num_queries):
    for n in range(3):
        new_user(idp, f"p{n}@example.test")
    with django_assert_max_num_queries(12):
        page = send(idp, "get", "Users?startIndex=2&count=2").json()
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 2
    for n in range(3, 12):
        new_user(idp, f"p{n}@example.test")
    with django_assert_max_num_queries(12):
        send(idp, "get", "Users?count=50")


@pytest.mark.parametrize("persona", ["owner", "compliance", "admin_user"])
@pytest.mark.django_db  # its persona asks for the database only when it runs
def test_it_refuses_sessions_and_tokens_without_the_scim_scope(persona, request):
    user = request.getfixturevalue(persona)
    session = APIClient()
    session.force_login(user)
    assert send(session, "get", "Users").status_code in (401, 403)
    _, key = token_create(actor=user, name="x", scopes=["read"],
                          expires_at=timezone.now() + timezone.timedelta(days=1))
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert send(token, "get", "Users").status_code == 403


def test_the_scim_scope_is_only_for_service_accounts(owner):
    with pytest.raises(DomainError):
        token_create(actor=owner, name="x", scopes=["scim"],
                     expires_at=timezone.now() + timezone.timedelta(days=1))


def test_a_scim_token_reaches_nothing_else(idp):
    assert idp.get("/api/v1/agents/").status_code == 403


def test_it_never_shows_or_changes_service_accounts(idp, provisioner):
    assert send(idp, "get", f"Users/{provisioner.pk}").status_code == 404
    listed = send(idp, "get", "Users").json()
    assert provisioner.username not in [r["userName"] for r in listed["Resources"]]


def test_it_publishes_its_service_provider_config(idp):
    config = send(idp, "get", "ServiceProviderConfig").json()
    assert config["patch"]["supported"] is True
