"""The admin writes through the services, as the admin, and never deletes what is audited."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.models import HistoricalChanges

from almportal.accounts.models import ApiToken, User
from almportal.accounts.roles import GROUP_NAMES, Role
from almportal.accounts.services import hash_token_key, token_create
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent, AgentUserObjectPermission, ModelComponent
from almportal.releases.choices import ReleaseState
from almportal.releases.models import Release
from almportal.releases.services import release_submit

from .conftest import client_for
from .factories import make_agent, make_model, make_release

pytestmark = pytest.mark.django_db

OUR_APPS = ("core", "accounts", "inventory")


def our_models():
    return [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()
            if not issubclass(model, HistoricalChanges)]


def agent_form_data(agent: Agent, **changes) -> dict:
    data = {
        "name": agent.name, "purpose": agent.purpose, "why_agent": agent.why_agent,
        "business_unit": agent.business_unit, "sponsor": agent.sponsor,
        "business_owner": agent.business_owner_id, "technical_owner": "",
        "intended_users": agent.intended_users, "audience": agent.audience,
        "success_metrics": json.dumps(agent.success_metrics), "tags": json.dumps(agent.tags),
        "autonomy_level": agent.autonomy_level,
        "data_classification": agent.data_classification,
        "action_reach": agent.action_reach, "regulated_domain": agent.regulated_domain,
        "reason": "",
    }
    data.update(changes)
    return data


def _request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def test_every_model_is_registered():
    missing = [model.__name__ for model in our_models() if not admin.site.is_registered(model)]
    assert missing == []


def test_every_audited_model_has_a_history_page_and_no_delete(admin_user):
    request = _request_for(admin_user)
    for model in our_models():
        model_admin = admin.site._registry[model]
        assert not model_admin.has_delete_permission(request), model.__name__
        if hasattr(model, "history"):
            assert hasattr(model_admin, "history_form_view"), model.__name__


def test_it_changes_an_agent_through_the_service_as_the_admin(client, admin_user, agent):
    client_for(client, admin_user)
    response = client.post(change_url(agent), agent_form_data(
        agent, name="Handbook assistant", reason="Renamed after the pilot"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    agent.refresh_from_db()
    assert agent.name == "Handbook assistant"
    last = agent.history.first()
    assert last.history_user == admin_user
    assert last.history_change_reason == "Renamed after the pilot"


def test_it_shows_a_refusal_of_the_service_on_the_form(client, admin_user, agent, other_owner):
    client_for(client, admin_user)
    rows = agent.history.count()
    response = client.post(change_url(agent), agent_form_data(
        agent, name="Renamed", business_owner=other_owner.pk))
    assert response.status_code == 200
    assert "Say why ownership changes." in response.context["adminform"].form.errors["reason"]
    agent.refresh_from_db()
    assert (agent.name, agent.business_owner) != ("Renamed", other_owner)
    assert agent.history.count() == rows


def test_it_transfers_ownership_with_a_reason(client, admin_user, agent, other_owner):
    client_for(client, admin_user)
    response = client.post(change_url(agent), agent_form_data(
        agent, business_owner=other_owner.pk, reason="Olivia moved to Finance"))
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.business_owner == other_owner
    assert other_owner.has_perm("inventory.change_agent", agent)
    assert agent.history.first().history_change_reason == "Olivia moved to Finance"


def test_it_drafts_an_agent_through_the_service(client, admin_user, owner):
    client_for(client, admin_user)
    draft = Agent(name="Travel desk assistant", purpose="Books trips.", why_agent="Many rules.",
                  business_unit="Finance", intended_users="All staff", audience="internal",
                  autonomy_level="suggest_only", data_classification="internal",
                  action_reach="read_only", regulated_domain="none", business_owner=owner,
                  success_metrics=[{"name": "Trips booked", "target": "100/month"}])
    response = client.post(reverse("admin:inventory_agent_add"), agent_form_data(draft))
    assert response.status_code == 302
    agent = Agent.objects.get(name="Travel desk assistant")
    assert agent.slug == "travel-desk-assistant"
    assert agent.business_owner == owner and agent.created_by == admin_user
    assert owner.has_perm("inventory.change_agent", agent)


def test_it_refuses_to_delete(client, admin_user, agent):
    client_for(client, admin_user)
    url = reverse("admin:inventory_agent_delete", args=[agent.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    response = client.get(reverse("admin:inventory_agent_changelist"))
    assert response.status_code == 200
    assert "delete_selected" not in response.content.decode()
    assert Agent.objects.filter(pk=agent.pk).exists()


def test_a_component_version_is_read_only(client, admin_user, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    model = make_model(agent)
    client_for(client, admin_user)
    response = client.get(change_url(model))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = client.post(change_url(model), {"agent": agent.pk, "name": "main-model",
                                               "provider": "Other", "model_name": "x",
                                               "pinned_version": "1", "hosting": "vendor_api"})
    assert response.status_code == 403
    model.refresh_from_db()
    assert model.provider == "Example AI"


def test_a_past_version_is_shown_read_only_and_never_restored(client, admin_user, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    model = make_model(agent)
    version = model.history.get()
    url = reverse("admin:inventory_modelcomponent_simple_history",
                  args=[model.pk, version.history_id])
    client_for(client, admin_user)
    response = client.get(url)
    assert response.status_code == 200
    assert "Example AI" in response.content.decode() and "<input" not in "".join(
        str(f) for f in response.context["adminform"].form)
    past = client.get(reverse("admin:accounts_user_simple_history", args=[
        owner.pk, owner.history.first().history_id])).content.decode()
    assert "../password/" not in past  # a link that would lead nowhere from here
    grant = AgentUserObjectPermission.objects.first()  # an admin without its own fieldsets
    assert client.get(reverse("admin:inventory_agentuserobjectpermission_simple_history",
                              args=[grant.pk, grant.history.first().history_id])
                      ).status_code == 200
    assert client.post(url, {"provider": "Other"}).status_code == 403
    model.refresh_from_db()
    assert model.provider == "Example AI" and model.history.count() == 1


def test_a_new_component_version_is_added_through_the_service(client, admin_user, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    make_model(agent)
    client_for(client, admin_user)
    response = client.post(reverse("admin:inventory_modelcomponent_add"), {
        "agent": agent.pk, "name": "main-model", "provider": "Example AI",
        "model_name": "example-large", "pinned_version": "2026-09-01",
        "hosting": "vendor_api", "data_retention": "", "notes": "",
        "reason": "Newer snapshot"})
    assert response.status_code == 302
    newest = ModelComponent.objects.filter(agent=agent).order_by("-version").first()
    assert (newest.version, newest.pinned_version) == (2, "2026-09-01")
    assert newest.history.get().history_user == admin_user
    assert newest.history.get().history_change_reason == "Newer snapshot"


def test_a_frozen_release_is_read_only(client, admin_user, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = release_submit(actor=owner, release=make_release(agent, label="1.0.0"))
    client_for(client, admin_user)
    response = client.get(change_url(release))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = client.post(change_url(release), {"label": "1.0.1", "notes": "",
                                                  "configuration": "{}"})
    assert response.status_code == 403
    release.refresh_from_db()
    assert (release.label, release.state) == ("1.0.0", ReleaseState.SUBMITTED)


def test_a_draft_release_is_edited_through_the_service(client, admin_user, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent, label="0.1.0")
    old_hash = release.manifest_hash
    client_for(client, admin_user)
    response = client.post(change_url(release), {
        "label": "0.2.0", "notes": "", "configuration": json.dumps({"max_tokens": 500}),
        "models_used": [m.pk for m in release.models_used.all()],
        "prompts": [p.pk for p in release.prompts.all()], "reason": "Token limit"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    release.refresh_from_db()
    assert release.label == "0.2.0"
    assert release.configuration == {"max_tokens": 500}
    assert release.manifest_hash != old_hash
    assert release.history.first().history_user == admin_user


def test_it_submits_releases_with_an_action(client, admin_user, owner):
    release = make_release(make_agent(owner, Stage.IN_DEVELOPMENT))
    client_for(client, admin_user)
    client.post(reverse("admin:inventory_release_changelist"),
                {"action": "submit", "_selected_action": [release.pk]})
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED
    assert release.submitted_by == admin_user
    assert Release.objects.count() == 1


def test_it_never_shows_a_token_hash_and_revokes_through_the_service(client, admin_user):
    token, _ = token_create(actor=admin_user, name="ci", scopes=["read"],
                            expires_at=timezone.now() + timedelta(days=30))
    client_for(client, admin_user)
    response = client.get(change_url(token))
    assert response.status_code == 200
    assert token.key_hash not in response.content.decode()
    assert not response.context["has_change_permission"]
    client.post(reverse("admin:accounts_apitoken_changelist"),
                {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.history.first().history_user == admin_user


def token_form(user, **changes) -> dict:
    expires = timezone.now() + timedelta(days=90)
    data = {"user": user.pk, "name": "deploy pipeline", "scopes": ["read", "write"],
            "expires_at_0": expires.strftime("%Y-%m-%d"), "expires_at_1": "00:00:00"}
    data.update(changes)
    return data


def test_it_creates_a_token_and_shows_its_key_once(client, admin_user):
    client_for(client, admin_user)
    response = client.post(reverse("admin:accounts_apitoken_add"), token_form(admin_user),
                           follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get(name="deploy pipeline")
    assert (token.created_by, token.scopes) == (admin_user, ["read", "write"])
    keys = [word for m in response.context["messages"] for word in str(m).split()
            if word.startswith(ApiToken.PREFIX) and len(word) > len(token.key_prefix) + 1]
    assert len(keys) == 1
    assert hash_token_key(keys[0]) == token.key_hash


def test_it_shows_the_service_refusal_of_a_token(client, admin_user):
    client_for(client, admin_user)
    response = client.post(reverse("admin:accounts_apitoken_add"),
                           token_form(admin_user, expires_at_0="2099-01-01"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["expires_at"] == [
        "A token may live at most a year."]
    assert not ApiToken.objects.exists()


def test_every_admin_page_renders(client, admin_user):
    call_command("seed_demo", stdout=StringIO())
    client_for(client, admin_user)
    for model in our_models():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        assert client.get(reverse(f"{prefix}_changelist")).status_code == 200, prefix
        assert client.get(reverse(f"{prefix}_changelist"), {"q": "a"}).status_code == 200
        if admin.site._registry[model].has_add_permission(_request_for(admin_user)):
            assert client.get(reverse(f"{prefix}_add")).status_code == 200, prefix
        for obj in model._default_manager.all()[:3]:
            assert client.get(change_url(obj)).status_code == 200, (prefix, obj)
            if hasattr(model, "history"):
                url = reverse(f"{prefix}_history", args=[obj.pk])
                assert client.get(url).status_code == 200, (prefix, obj)
    agent = Agent.objects.first()
    url = reverse("admin:inventory_agent_permissions", args=[agent.pk])
    assert client.get(url).status_code == 200


def test_it_adds_a_user_with_a_role_as_the_admin(client, admin_user):
    group = Group.objects.get(name=GROUP_NAMES[Role.SECURITY])
    client_for(client, admin_user)
    response = client.post(reverse("admin:accounts_user_add"), {
        "username": "rita", "usable_password": "true", "password1": "a-long-Passphrase-42",
        "password2": "a-long-Passphrase-42", "first_name": "Rita", "last_name": "Reyes",
        "email": "rita@example.test", "groups": [group.pk]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    rita = User.objects.get(username="rita")
    assert rita.has_role(Role.SECURITY)
    assert rita.history.first().history_user == admin_user


def test_an_authenticator_qr_code_page_names_its_image_and_wraps_its_key(client, admin_user,
                                                                         owner):
    device = TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    client_for(client, admin_user)
    page = client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'alt="QR code of the authenticator key for Phone"' in html
    assert '<p class="config-url">otpauth://' in html


def test_object_permission_icons_say_what_they_show(client, admin_user, agent):
    client_for(client, admin_user)
    html = client.get(reverse("admin:inventory_agent_permissions", args=[agent.pk])
                      ).content.decode()
    assert 'alt="Granted"' in html and "<img" in html
    assert re.search(r"<img(?![^>]*alt=)", html) is None
