"""Who single sign-on signs in, and with which roles (the browser journey is in tests/e2e)."""

import pytest
from django.test import RequestFactory

from almportal.accounts.identity import role_mapping_save, sso_user_for
from almportal.accounts.models import ExternalIdentity, User
from almportal.accounts.roles import Role
from almportal.accounts.sso import OidcBackend
from almportal.core.errors import DomainError

from ..factories import make_user


@pytest.fixture
def mapped(admin_user):
    role_mapping_save(actor=admin_user, idp_group="alm-security", role=Role.SECURITY)
    role_mapping_save(actor=admin_user, idp_group="alm-admins", role=Role.ADMIN)


def sign_in(sub="s-1", username="kim", groups=()):
    return sso_user_for(claims={"sub": sub, "preferred_username": username, "groups": groups,
                                "email": f"{username}@example.test"},
                        username_claim="preferred_username", groups_claim="groups")


def test_it_creates_a_person_at_first_sign_in_with_mapped_roles(mapped):
    user = sign_in(groups=["alm-security", "staff"])
    assert user.roles == {Role.SECURITY} and not user.is_staff
    assert not user.has_usable_password()


def test_roles_follow_the_groups_at_every_sign_in(mapped):
    sign_in(groups=["alm-admins"])
    user = sign_in(groups=["alm-security"])
    user = User.objects.get(pk=user.pk)
    assert user.roles == {Role.SECURITY} and not user.is_staff
    assert User.objects.filter(username="kim").count() == 1


def test_the_admin_role_gets_the_admin_site(mapped):
    assert sign_in(groups=["alm-admins"]).is_staff


def test_it_links_an_existing_account_by_username_once(mapped, db):
    existing = make_user(Role.BUSINESS_OWNER, username="kim")
    assert sign_in(groups=["alm-security"]) == existing
    assert ExternalIdentity.objects.get(user=existing).subject == "s-1"
    assert sign_in(username="kim-renamed") == existing  # found by subject now


def test_it_refuses_service_accounts_and_deactivated_people(db):
    make_user(username="robot", is_service_account=True)
    make_user(username="leaver", is_active=False)
    with pytest.raises(DomainError):
        sign_in(sub="s-2", username="robot")
    with pytest.raises(DomainError):
        sign_in(sub="s-3", username="leaver")


def test_it_refuses_claims_without_a_subject(db):
    with pytest.raises(DomainError):
        sign_in(sub="")


def test_the_backend_ignores_requests_that_do_not_come_back_from_the_provider(db, settings):
    settings.SSO_ENABLED = True
    backend = OidcBackend()
    assert backend.authenticate(None) is None
    assert backend.authenticate(RequestFactory().get("/sso/callback/")) is None


def test_the_sso_pages_are_absent_without_configuration(client, db):
    assert client.get("/sso/login/").status_code == 404
