import sys
import uuid
from contextlib import redirect_stdout
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from almportal.accounts.roles import Role

from .factories import make_agent, make_user


def pytest_collection_modifyitems(items):
    """Every test that commits (transaction=True) starts from the migrated database, seeded
    rows included (roles, questionnaire, tier policies, environments), however the tests before
    it left the database: their flush would otherwise drop the seeds, and the roles recreated
    after a flush would collide with those a serialized test restores."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction"):
            item.add_marker(pytest.mark.django_db(**{**marker.kwargs,
                                                     "serialized_rollback": True}),
                            append=False)  # first, so that it is the closest marker


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads and archives (the demo data retires an agent) go to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Each test its own cache keys: the Redis cache outlives a test's rollback and is shared
    by parallel workers, whose databases reuse the same ids."""
    settings.CACHES = {"default": {**settings.CACHES["default"],
                                   "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture(autouse=True)
def _access_read_each_request(settings):
    """Roles, permissions, the unread count and the tier policies read on every request, as
    on a cold cache, so that a query-count test compares like with like (tests of those caches
    turn them on)."""
    settings.ACCESS_CACHE_SECONDS = 0
    settings.TIER_POLICY_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _plain_http_pages(settings):
    """Pages over plain HTTP with unhashed static names: no HTTPS redirect, no manifest."""
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data seeded once for a module's tests, and what the seeding printed (mail
    included, were any sent to the terminal). It is seeded in a transaction rolled back after
    the module, so each test's own changes roll back to the seeded rows: every test of the
    module must use it, and none may commit."""
    printed = StringIO()
    seeded = transaction.atomic()
    with django_db_blocker.unblock(), redirect_stdout(printed), override_settings(
            EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=tmp_path_factory.mktemp("demo-media"),
            ACCESS_CACHE_SECONDS=0, TIER_POLICY_CACHE_SECONDS=0):
        seeded.__enter__()
        try:
            call_command("seed_demo")
        except BaseException:  # a failed seed is reported as itself, not by the next tests
            seeded.__exit__(*sys.exc_info())
            raise
    yield printed.getvalue()
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        seeded.__exit__(None, None, None)


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


@pytest.fixture(autouse=True)
def _ledger_of_the_restored_database(request):
    """A transactional test restores the migrated database from Django's serialized copy, which
    re-saves every history row with its times cut to milliseconds; the ledger (not serialized)
    is rebuilt from those rows so that it agrees with them, as `migrate` left it agreeing."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    from almportal.audit.services import ledger_catch_up

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_ledgerentry" if connection.vendor == "postgresql"
                       else "DELETE FROM audit_ledgerentry")
        cursor.execute("DELETE FROM audit_ledgerhead")
    ledger_catch_up()
