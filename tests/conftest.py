import pytest

from almportal.accounts.roles import Role

from .factories import make_agent, make_user


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_http_pages(settings):
    """Pages over plain HTTP with unhashed static names: no HTTPS redirect, no manifest."""
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


# Personas: every permission test names who acts.
@pytest.fixture
def owner(db):
    return make_user(Role.BUSINESS_OWNER, username="olivia")


@pytest.fixture
def other_owner(db):
    return make_user(Role.BUSINESS_OWNER, username="oscar")


@pytest.fixture
def compliance(db):
    return make_user(Role.COMPLIANCE, username="carla")


@pytest.fixture
def security(db):
    return make_user(Role.SECURITY, username="sam")


@pytest.fixture
def auditor(db):
    return make_user(Role.AUDITOR, username="audrey")


@pytest.fixture
def admin_user(db):
    return make_user(Role.ADMIN, username="adam", is_staff=True, is_superuser=True)


@pytest.fixture
def agent(owner):
    return make_agent(owner)


def client_for(client, user):
    client.force_login(user)
    return client
